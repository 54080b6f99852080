/**
 * The node's only image, without a registry: the kernel lab's rootfs (busybox-static and the static
 * burner) as an OCI image layout (one uncompressed layer, a config, a manifest, `index.json` naming
 * it with `io.containerd.image.name`), tarred once into the cache and imported with
 * `ctr images import`. Pods use it with `imagePullPolicy: Never`, and containerd uses it as the
 * sandbox ("pause") image too: its default command is `/pause`, as the pause image's (the burner's
 * pause mode, dev/lab/burner.c).
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheDir, labRootfs } from '../lab/assets.ts';

const run = promisify(execFile);

export interface NodeImage {
  /** `kernel-gossip.local/lab:<hash of the rootfs>`, what pods and `sandbox_image` name. */
  readonly name: string;
  /** The OCI layout tar `ctr images import` reads. */
  readonly tarPath: string;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** The blob's descriptor, written under `blobs/sha256/`. */
const writeBlob = async (layout: string, mediaType: string, data: Buffer): Promise<{ mediaType: string; digest: string; size: number }> => {
  const digest = sha256(data);
  await writeFile(path.join(layout, 'blobs', 'sha256', digest), data);
  return { mediaType, digest: `sha256:${digest}`, size: data.length };
};

/** Tar flags that make the same rootfs give the same bytes (so the same digest) every time. */
const REPRODUCIBLE_TAR = ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner'];

/** Builds (or reuses) the image tar of the lab rootfs; keyed by the rootfs folder, itself keyed by its inputs. */
export const nodeImage = async (): Promise<NodeImage> => {
  const rootfs = await labRootfs();
  const tag = path.basename(rootfs).replace(/^rootfs-/, '');
  const name = `kernel-gossip.local/lab:${tag}`;
  const tarPath = path.join(cacheDir(), 'lab', `node-image-${tag}.tar`);
  if (await access(tarPath).then(() => true, () => false)) {
    return { name, tarPath };
  }
  const work = await mkdtemp(`${tarPath}.tmp-`);
  try {
    const layout = path.join(work, 'layout');
    await mkdir(path.join(layout, 'blobs', 'sha256'), { recursive: true });
    const layerTar = path.join(work, 'layer.tar');
    await run('tar', ['-C', rootfs, ...REPRODUCIBLE_TAR, '--exclude=./.complete', '-cf', layerTar, '.']);
    const layerBytes = await readFile(layerTar);
    const layer = await writeBlob(layout, 'application/vnd.oci.image.layer.v1.tar', layerBytes);
    const config = await writeBlob(
      layout,
      'application/vnd.oci.image.config.v1+json',
      Buffer.from(
        JSON.stringify({
          architecture: 'amd64',
          os: 'linux',
          config: { Env: ['PATH=/bin'], Cmd: ['/pause'], WorkingDir: '/' },
          rootfs: { type: 'layers', diff_ids: [layer.digest] },
        }),
      ),
    );
    const manifest = await writeBlob(
      layout,
      'application/vnd.oci.image.manifest.v1+json',
      Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config, layers: [layer] })),
    );
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ ...manifest, annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': tag } }],
    };
    await writeFile(path.join(layout, 'index.json'), JSON.stringify(index));
    await writeFile(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const partial = path.join(work, 'image.tar');
    await run('tar', ['-C', layout, ...REPRODUCIBLE_TAR, '-cf', partial, '.']);
    await rename(partial, tarPath);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { name, tarPath };
};
