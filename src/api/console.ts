import { join } from 'node:path';
import express, { RequestHandler, Router } from 'express';
import { defineRoute } from './route';

/** The console's files: plain HTML, one vanilla JS file and CSS, no build step and no CDN. */
export const CONSOLE_DIR = join(__dirname, 'console');

/**
 * Everything on the page comes from this origin; no inline script or style, no plugins, no framing.
 * The page talks only to this API (connect-src 'self').
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The console's security headers, on the page and on each of its files. */
const consoleHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Content-Security-Policy': CONSOLE_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-cache',
  });
  next();
};

/**
 * The approval console at /console: a static page that signs in with an API key (kept in
 * sessionStorage) and calls the same /api routes as the CLI. It needs no authentication to load;
 * every action it takes is authorised by the API.
 */
export const consoleRoutes = [
  defineRoute({
    method: 'get',
    // Also /console/ (the router is not strict about a trailing slash); the page links its files absolutely.
    path: '/console',
    operationId: 'console',
    tag: 'console',
    summary: 'The approval console: a static page that signs in with an API key and calls this API (src/api/console.ts)',
    description: 'Its script, style and other files are served from /console/* as static files.',
    roles: null,
    middleware: () => [consoleHeaders],
    responses: { 200: { description: 'the page', contentType: 'text/html', schema: () => ({ type: 'string' }) } },
    handler: ({ res }) => res.sendFile(join(CONSOLE_DIR, 'index.html')),
  }),
];

/** The console's script, style and other files under /console/ (not operations): mounted after the page. */
export function consoleFiles(): Router {
  const router = Router();
  router.use(consoleHeaders, express.static(CONSOLE_DIR, { index: false, redirect: false, dotfiles: 'ignore' }));
  return router;
}
