import './style.css';
import './physician.css';
import { Api } from './api';
import { startApp } from './app';
import { parseHash } from './router';
import { Session } from './session';
import { preloadViewer } from './study';

const api = new Api();
const session = new Session(api);
const root = document.getElementById('app');
if (root) startApp(root, { api, session });
// opened on a study's address: the viewer's code loads while the session and the study are requested
if (root && parseHash(location.hash).name === 'study') preloadViewer();
