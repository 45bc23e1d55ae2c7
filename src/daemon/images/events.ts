// Image events as dockerd logs them (daemon/images/image_events.go): the actor is the image
// ID (or, for pull and push, the reference), its attributes the image's labels plus "name".
import type { ImageStore } from '../../images/store.js';
import { isBerthError } from '../../util/errors.js';

export interface ImageEvent {
  Type: 'image';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
}

export type EmitImageEvent = (event: ImageEvent) => void;

export class ImageEvents {
  constructor(
    private readonly store: ImageStore,
    private readonly emit: EmitImageEvent,
  ) {}

  /**
   * Log `action` for `actor` (an image ID or a reference the store resolves); `name` becomes
   * the "name" attribute. An image already gone (delete) has no labels left to report.
   */
  async log(action: string, actor: string, name: string): Promise<void> {
    const attributes: Record<string, string> = { ...(await this.labelsOf(actor)) };
    if (name !== '') attributes.name = name;
    this.send({ Type: 'image', Action: action, Actor: { ID: actor, Attributes: attributes } });
  }

  /** dockerd's event after an image prune: no actor, the bytes reclaimed. */
  pruned(reclaimed: number): void {
    this.send({ Type: 'image', Action: 'prune', Actor: { ID: '', Attributes: { reclaimed: String(reclaimed) } } });
  }

  private send(event: ImageEvent): void {
    try {
      this.emit(event);
    } catch {
      // A subscriber's failure is not the operation's: the image work is done either way.
    }
  }

  private async labelsOf(actor: string): Promise<Record<string, string>> {
    try {
      const img = await this.store.resolve(actor);
      return (await this.store.configOf(img)).config?.Labels ?? {};
    } catch (err) {
      if (isBerthError(err, 'NotFound') || isBerthError(err, 'InvalidArgument')) return {};
      throw err;
    }
  }
}
