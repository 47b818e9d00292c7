/**
 * The softmax a view gets when none is asked for, once the tensor is known. A tensor whose rows already sum to 1
 * holds softmax outputs: another softmax would flatten every row towards 1/cols, so it is shown as stored. The
 * viewer, `steve render` and `steve export` all decide it here. Pure.
 */
import type { ViewSpec } from './spec.ts';

/** What is known of the view's tensor and of the request. */
export interface SoftmaxFacts {
  /** The user named a softmax scope (--softmax, or the viewer's control): it is kept whatever the tensor holds. */
  readonly softmaxGiven: boolean;
  /** The tensor's rows already sum to 1 (src/data/mapStats.ts isHeadSoftmaxed). */
  readonly softmaxed: boolean;
}

/** `spec`, with softmax 'none' when none was asked for and the tensor is already softmaxed. */
export function resolveSoftmax(spec: ViewSpec, facts: SoftmaxFacts): ViewSpec {
  if (facts.softmaxGiven || !facts.softmaxed || spec.softmax === 'none') return spec;
  return { ...spec, softmax: 'none' };
}

/** What a front end says when a softmaxed tensor is shown as stored, after the file's name (the viewer's banner). */
export const STORED_SOFTMAX_NOTE = 'rows already sum to 1 (softmaxed), shown as stored; --softmax row applies another softmax';

/** The one line a front end prints when resolveSoftmax kept a tensor as stored. */
export function storedSoftmaxNote(fileName: string): string {
  return `${fileName}: ${STORED_SOFTMAX_NOTE}`;
}
