// What each workspace role may do, as the server enforces it (server/roles.py and
// annotations/commenting.py): the UI offers only what will be accepted.
//   viewer     reads
//   commenter  reads; adds comments and replies (creator: themselves), changes only those
//   editor     annotations of anyone, tags, the workspace tag list, named versions
//   lead       an editor who also restores earlier versions (and signs records)
//   owner      members and roles

import { COMMENT_MOTIVATIONS } from '../generated/schema';
import type { AnnotationView } from '../binding/document';

export const ROLES = ['viewer', 'commenter', 'editor', 'lead', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export const rank = (role: string | null | undefined): number => ROLES.indexOf(role as Role) + 1;

export const atLeast = (role: string | null | undefined, needed: Role): boolean => rank(role) >= rank(needed);

const isComment = (motivation: string) => (COMMENT_MOTIVATIONS as readonly string[]).includes(motivation);

export interface Actor {
  role: string | null | undefined;
  agent: string | undefined; // creator.id of this person's annotations
}

/** Draw a new region (it is made as a comment, so commenters may). */
export const canDraw = (a: Actor): boolean => atLeast(a.role, 'commenter');

/** Reply to an annotation. */
export const canReply = (a: Actor): boolean => atLeast(a.role, 'commenter');

/** Change anything of this annotation: its shape, text, tags; delete it. */
export const canEdit = (a: Actor, annotation: Pick<AnnotationView, 'creator' | 'motivation'>): boolean => {
  if (atLeast(a.role, 'editor')) return true;
  return (
    atLeast(a.role, 'commenter') &&
    a.agent !== undefined &&
    annotation.creator?.id === a.agent &&
    isComment(annotation.motivation)
  );
};

/** Delete this annotation together with its replies: every reply must be one the actor
 * may change, or the server refuses the whole update. */
export const canDelete = (
  a: Actor,
  annotation: Pick<AnnotationView, 'creator' | 'motivation'>,
  replies: Pick<AnnotationView, 'creator' | 'motivation'>[],
): boolean => canEdit(a, annotation) && replies.every((r) => canEdit(a, r));

export const canEditTagList = (role: string | null | undefined): boolean => atLeast(role, 'editor');
export const canNameVersion = (role: string | null | undefined): boolean => atLeast(role, 'editor');
export const canRestore = (role: string | null | undefined): boolean => atLeast(role, 'lead');
export const canManageMembers = (role: string | null | undefined): boolean => atLeast(role, 'owner');
export const canImport = (role: string | null | undefined): boolean => atLeast(role, 'editor');
