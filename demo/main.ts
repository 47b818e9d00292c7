// The demo page: the viewer on the bundled samples. window.steve exposes the viewer to tests and the console.
import { startViewer } from '../src/ui/main.ts';

const handle = await startViewer(import.meta.env.BASE_URL);
(window as unknown as { steve?: unknown }).steve = handle;
document.body.dataset.ready = handle ? 'yes' : 'no-webgpu';
