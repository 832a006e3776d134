import { join } from 'node:path';
import express, { Router } from 'express';

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

/**
 * The approval console at /console: a static page that signs in with an API key (kept in
 * sessionStorage) and calls the same /api routes as the CLI. It needs no authentication to load;
 * every action it takes is authorised by the API.
 */
export function consoleRoutes(): Router {
  const router = Router();
  router.use((_req, res, next) => {
    res.set({
      'Content-Security-Policy': CONSOLE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-cache',
    });
    next();
  });
  // The page itself at /console and /console/ (it links its files absolutely, so both work).
  router.get('/', (_req, res) => res.sendFile(join(CONSOLE_DIR, 'index.html')));
  router.use(express.static(CONSOLE_DIR, { index: false, redirect: false, dotfiles: 'ignore' }));
  return router;
}
