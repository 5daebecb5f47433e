// GraphiQL as a person uses it, in Debian's headless Chromium: open the page, sign in with the
// bar at the top, open the Docs pane and find the Query type's fields there; then type a query and
// check that autocompletion offers a field. Fails (exit 1) if any step does not happen.
//
//   node tests/browser/graphiql.mjs [--url http://127.0.0.1:8080] [--screenshot /tmp/graphiql.png]
//                                   [--introspection-out FILE]   (writes the introspection document GraphiQL sent)
//
// Needs `npm ci` in tests/browser and Chromium (`apt-get install chromium`); run by
// tests/browser/check.sh, which starts a server with the demo data first.
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const url = arg('--url', 'http://127.0.0.1:8080');
const screenshot = arg('--screenshot', '/tmp/graphiql.png');
const introspectionOut = arg('--introspection-out', null);
const email = process.env.CBSS_EMAIL || 'admin@demo.mn';
const password = process.env.CBSS_PASSWORD || 'demo-password';

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const fail = async (page, why) => {
  await page.screenshot({ path: screenshot });
  console.error(`FAIL: ${why} (screenshot: ${screenshot})`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('request', (r) => {
    const body = r.postData();
    if (introspectionOut && body && body.includes('__schema')) {
      writeFileSync(introspectionOut, JSON.parse(body).query);
    }
  });

  // Signed out: the bar says how to sign in, and no error is shown.
  await page.goto(`${url}/graphql`);
  await page.waitForSelector('#session input[name=email]', { timeout: 15000 });
  const text = await page.textContent('body');
  if (/error fetching schema/i.test(text)) await fail(page, 'the signed-out page shows a schema error');

  await page.fill('#session input[name=email]', email);
  await page.fill('#session input[name=password]', password);
  await Promise.all([page.waitForEvent('load'), page.click('#session button[type=submit]')]);
  await page.waitForSelector(`text=Signed in as ${email}`, { timeout: 15000 });

  // The Docs pane: the root types, then the Query type's fields.
  await page.waitForSelector('.graphiql-container', { timeout: 15000 });
  await page.click('[aria-label="Show Documentation Explorer"]');
  await page.waitForSelector('.graphiql-doc-explorer >> text=Query', { timeout: 20000 });
  await page.click('.graphiql-doc-explorer a.graphiql-doc-explorer-type-name >> text=Query');
  await page.waitForSelector('.graphiql-doc-explorer >> text=people', { timeout: 10000 });
  const docs = await page.textContent('.graphiql-doc-explorer');
  for (const field of ['people', 'households', 'coverage', 'dueList']) {
    if (!docs.includes(field)) await fail(page, `the Docs pane lacks Query.${field}`);
  }

  // Autocompletion: typing in the query editor offers fields of the schema.
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ peo');
  await page.waitForSelector('.CodeMirror-hints >> text=people', { timeout: 10000 });
  await page.keyboard.press('Escape');

  await page.screenshot({ path: screenshot });
  if (problems.length) await fail(page, `errors on the page: ${problems.join('; ')}`);
  console.log(`ok: signed in, Docs pane lists Query's fields, autocompletion offers them (screenshot: ${screenshot})`);
} finally {
  await browser.close();
}
