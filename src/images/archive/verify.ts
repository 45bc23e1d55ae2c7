// The last check before an archive's images are registered: every blob each plan needs is
// in the content store (verified on the way in) with the size its descriptor claims, the
// documents parse, and the layers pair with the config's diff IDs. Only when every plan
// passes is anything registered, so a bad archive leaves no image behind.
import type { ContentStore } from '../../content/store.js';
import { MAX_MANIFEST_SIZE, isLayerType, parseImageConfig, parseManifest } from '../../oci/image-spec.js';
import type { Digest } from '../../util/digest.js';
import { invalidArgument } from '../../util/errors.js';
import { readDocument, within, type LoadPlan } from './load-plan.js';

/** The image ID (config digest) the plan will register. */
export async function verifyPlan(content: ContentStore, plan: LoadPlan, maxJsonBytes: number): Promise<Digest> {
  const where = plan.where;
  const bytes = await readDocument(content, plan.manifest, where, MAX_MANIFEST_SIZE);
  const manifest = parse(`${where} (manifest ${plan.manifest.digest})`, () => parseManifest(bytes, plan.manifest.mediaType));
  const configWhere = `${where} config`;
  const configBytes = await readDocument(content, manifest.config, configWhere, maxJsonBytes);
  const config = parse(configWhere, () => parseImageConfig(configBytes));
  if (manifest.layers.length !== config.rootfs.diff_ids.length) {
    throw invalidArgument(`${where}: ${manifest.layers.length} layers but the image config has ${config.rootfs.diff_ids.length} diff_ids`);
  }
  for (const [i, layer] of manifest.layers.entries()) {
    const at = `${where} layers[${i}]`;
    if (!isLayerType(layer.mediaType)) throw invalidArgument(`${at}: media type ${JSON.stringify(layer.mediaType)} is not a layer`);
    const info = await content.info(layer.digest);
    if (!info) throw invalidArgument(`${at}: layer ${layer.digest} is not in the archive`);
    if (info.size !== layer.size) throw invalidArgument(`${at}: layer ${layer.digest} is ${info.size} bytes, but the manifest says ${layer.size}`);
  }
  return manifest.config.digest;
}

function parse<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw within(where, err);
  }
}
