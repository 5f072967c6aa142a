import './style.css';
import { Api } from './api';
import { h } from './dom';
import { startRouter, type Page, type Route } from './router';
import { mountStudy } from './study';
import { mountWorklist } from './worklist';

const api = new Api();

function notFound(path: string): Page {
  return {
    el: h(
      'div',
      { class: 'page' },
      h('div', { class: 'state' }, h('strong', { text: 'Page not found: ' }), h('code', { text: path }), ' ', h('a', { class: 'btn', attrs: { href: '#/' }, text: 'Worklist' })),
    ),
    destroy: () => undefined,
  };
}

function mount(route: Route): Page {
  switch (route.name) {
    case 'worklist':
      return mountWorklist({ api, query: route.query, navigate: (hash) => (location.hash = hash) });
    case 'study':
      return mountStudy({ api, uid: route.uid });
    case 'notFound':
      return notFound(route.path);
  }
}

const root = document.getElementById('app');
if (root) startRouter(root, mount);
