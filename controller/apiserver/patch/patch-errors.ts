// Errors of the patch formats. PatchError means the patch itself is wrong or does not
// apply to the object (upstream answers 422/400); UnsupportedPatchType means the content
// type is not one handled here (upstream answers 415).

export class PatchError extends Error {
  override name = 'PatchError';
}

export class UnsupportedPatchType extends Error {
  override name = 'UnsupportedPatchType';
  constructor(readonly contentType: string) {
    super(`unsupported patch type ${JSON.stringify(contentType)}; supported: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`);
  }
}
