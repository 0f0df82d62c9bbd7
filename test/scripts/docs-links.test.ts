/**
 * README and docs/: every relative link and anchor resolves, and README stays
 * a newcomer's page (short, with its table of contents).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../scripts/jupyter';

const PAGES = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set(Array.from(text.matchAll(/^#{1,6} (.+)$/gm), (m) => slug(m[1])));
}

test('every relative link in README and docs/ names a file that exists, and every anchor a heading in it', () => {
  const broken: string[] = [];
  let checked = 0;
  for (const page of PAGES) {
    const text = fs.readFileSync(path.join(ROOT, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      checked++;
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? path.join(ROOT, page) : path.resolve(path.dirname(path.join(ROOT, page)), file);
      if (!fs.existsSync(resolved)) broken.push(`${page}: ${target} (no ${path.relative(ROOT, resolved)})`);
      else if (anchor !== undefined && (!resolved.endsWith('.md') || !anchors(resolved).has(anchor))) broken.push(`${page}: ${target} (no heading #${anchor})`);
    }
  }
  assert.deepEqual(broken, []);
  assert.ok(checked > 50, `links checked: ${checked}`);
});

test("README is a newcomer's page: under 12 KB, contents first, the sections it promises", () => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  assert.ok(Buffer.byteLength(readme) < 12 * 1024, `README.md is ${Buffer.byteLength(readme)} bytes`);
  const headings = Array.from(readme.matchAll(/^## (.+)$/gm), (m) => m[1]);
  for (const section of ['Quick start', 'VS Code and JupyterLab', 'The notebooks', 'Commands', 'Where to change what', 'Tests and CI']) {
    assert.ok(headings.includes(section), `README has "## ${section}"`);
    assert.ok(readme.indexOf(`(#${slug(section)})`) < readme.indexOf('## Quick start'), `the contents link "${section}" before the quick start`);
  }
});
