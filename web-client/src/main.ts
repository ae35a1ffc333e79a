import './styles/app.css';
import { boot } from './app/shell';
import { initLanguage } from './i18n';

const root = document.getElementById('app')!;
void initLanguage().then(() => boot(root));
