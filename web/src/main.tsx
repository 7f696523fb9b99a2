import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('app')!;
// The page's own "Loading" line goes; the app draws its own loading states.
root.replaceChildren();
render(<App />, root);
