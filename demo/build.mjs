// Builds the demo chat of `chatwire dev` into cmd/chatwire/demo/, which the
// Go binary embeds: one script (the demo, @chatwire/client from client/dist
// and pusher-js), the page, its stylesheet and its icon. The output is committed so
// that dev needs no npm step; CI rebuilds it with --check to prove the
// committed files are what the sources build.
//
//   npm run build:demo --prefix e2e   (re)writes cmd/chatwire/demo/
//   npm run check:demo --prefix e2e   fails when a committed file is stale
import { createRequire } from 'node:module';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const e2e = path.join(root, 'e2e');
// The build tools are e2e's devDependencies, the one npm install of the repo.
const esbuild = createRequire(path.join(e2e, 'package.json'))('esbuild');
const outDir = path.join(root, 'cmd', 'chatwire', 'demo');

// The committed client build and e2e's pusher-js, whatever else is
// installed in client/node_modules, so that every machine builds the same bytes.
const pinnedInputs = {
  name: 'pinned-inputs',
  setup(build) {
    build.onResolve({ filter: /^@chatwire\/client$/ }, () => ({ path: path.join(root, 'client', 'dist', 'index.js') }));
    build.onResolve({ filter: /^pusher-js$/ }, (args) => {
      if (args.pluginData === 'pinned') return undefined;
      return build.resolve('pusher-js', { kind: args.kind, resolveDir: e2e, pluginData: 'pinned' });
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['demo/src/main.js'],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  legalComments: 'eof',
  write: false,
  outfile: path.join(outDir, 'demo.js'),
  plugins: [pinnedInputs],
  logLevel: 'warning',
});

const outputs = new Map(result.outputFiles.map((f) => [f.path, Buffer.from(f.contents)]));
for (const name of ['index.html', 'demo.css', 'favicon.svg']) {
  outputs.set(path.join(outDir, name), await readFile(path.join(root, 'demo', name)));
}

if (process.argv.includes('--check')) {
  const stale = [];
  for (const [file, want] of outputs) {
    const got = await readFile(file).catch(() => null);
    if (!got || !got.equals(want)) stale.push(path.relative(root, file));
  }
  for (const name of await readdir(outDir).catch(() => [])) {
    if (!outputs.has(path.join(outDir, name))) stale.push(`${path.relative(root, path.join(outDir, name))} (not built)`);
  }
  if (stale.length) {
    console.error(`stale: ${stale.join(', ')}\nrun: npm run build:demo --prefix e2e, and commit cmd/chatwire/demo/`);
    process.exit(1);
  }
  console.log('cmd/chatwire/demo/ is up to date');
} else {
  await mkdir(outDir, { recursive: true });
  for (const [file, contents] of outputs) await writeFile(file, contents);
  console.log(`wrote ${[...outputs.keys()].map((f) => path.relative(root, f)).join(', ')}`);
}
