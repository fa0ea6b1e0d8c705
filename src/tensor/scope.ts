/**
 * scope(fn): like tfjs's tidy. Every tensor created while fn runs is recorded in the innermost open scope; when
 * fn returns, the recorded tensors that are neither returned (found anywhere inside returned arrays, Maps and
 * plain objects) nor kept are disposed, and the returned ones move to the enclosing scope. Synchronous only: tensors
 * created after an await could not be attributed to the right scope, so returning a Promise is an error.
 */
export interface Tracked {
  readonly isDisposed: boolean;
  readonly isKept: boolean;
  dispose(): void;
  /** Called once the tensor outlives every open scope (returned to top level, or kept): GC becomes its safety net. */
  leaveScopes(): void;
}

const open: Tracked[][] = [];

/** Records a newly created tensor in the innermost open scope; false outside scopes. */
export function track(t: Tracked): boolean {
  if (open.length === 0) return false;
  open[open.length - 1]!.push(t);
  return true;
}

export function scope<T>(fn: () => T): T {
  const created: Tracked[] = [];
  open.push(created);
  let result: T;
  try {
    result = fn();
  } catch (err) {
    open.pop();
    disposeAll(created);
    throw err;
  }
  open.pop();
  if (isThenable(result)) {
    disposeAll(created);
    throw new Error('scope: fn returned a Promise; scope() is synchronous (await outside it, or dispose tensors yourself)');
  }
  const returned = new Set<unknown>();
  collectReturned(result, returned, new Set());
  const parent = open.length === 0 ? undefined : open[open.length - 1];
  for (const t of created) {
    if (t.isDisposed) continue;
    if (t.isKept) t.leaveScopes();
    else if (!returned.has(t)) t.dispose();
    else if (parent !== undefined) parent.push(t);
    else t.leaveScopes();
  }
  return result;
}

function disposeAll(created: Tracked[]): void {
  for (const t of created) {
    if (t.isKept) t.leaveScopes();
    else t.dispose();
  }
}

export function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Collects every non-container object reachable through arrays and plain objects (tensors among them). */
function collectReturned(value: unknown, out: Set<unknown>, seen: Set<unknown>): void {
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    if (seen.has(value)) return;
    seen.add(value);
    for (const v of value) collectReturned(v, out, seen);
    return;
  }
  if (value instanceof Map) {
    if (seen.has(value)) return;
    seen.add(value);
    for (const v of value.values()) collectReturned(v, out, seen);
    return;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    if (seen.has(value)) return;
    seen.add(value);
    for (const v of Object.values(value)) collectReturned(v, out, seen);
    return;
  }
  out.add(value);
}
