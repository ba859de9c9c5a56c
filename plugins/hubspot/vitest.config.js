import { defineConfig } from 'vitest/config';

export default defineConfig({
    // The card is JSX with React's automatic runtime, as HubSpot's build compiles it.
    esbuild: { jsx: 'automatic' },
    // `hs project dev` installs the card's own node_modules under src/app/cards: one React and one
    // SDK (the one whose testing renderer the tests use) for the card and the tests alike.
    resolve: { dedupe: ['react', '@hubspot/ui-extensions'] },
    test: {
        include: ['test/**/*.test.{js,jsx}'],
        environment: 'node'
    }
});
