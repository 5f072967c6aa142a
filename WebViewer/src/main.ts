import './style.css';
import './physician.css';
import { Api } from './api';
import { startApp } from './app';
import { Session } from './session';

const api = new Api();
const session = new Session(api);
const root = document.getElementById('app');
if (root) startApp(root, { api, session });
