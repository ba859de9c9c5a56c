import { defineConfig } from 'vitest/config';
import base from '../vitest.config.js';

// The tests' configuration, running only the renderer of the screenshot pages.
export default defineConfig({ ...base, test: { ...base.test, include: ['scripts/render-states.jsx'] } });
