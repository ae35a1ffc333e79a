import { describe, expect, it } from 'vitest';
import {
  atLeast,
  canDelete,
  canDraw,
  canEdit,
  canEditTagList,
  canManageMembers,
  canNameVersion,
  canReply,
  canRestore,
} from '../src/roles/rules';

const alice = 'urn:sinopia:user:alice';
const own = { creator: { id: alice }, motivation: 'commenting' };
const ownReply = { creator: { id: alice }, motivation: 'replying' };
const ownTagging = { creator: { id: alice }, motivation: 'tagging' };
const theirs = { creator: { id: 'urn:sinopia:user:bob' }, motivation: 'commenting' };

describe('role rules (as server/roles.py and annotations/commenting.py)', () => {
  it('ranks roles', () => {
    expect(atLeast('lead', 'editor')).toBe(true);
    expect(atLeast('commenter', 'editor')).toBe(false);
    expect(atLeast(undefined, 'viewer')).toBe(false);
    expect(atLeast('nonsense', 'viewer')).toBe(false);
  });

  it('lets a viewer read only', () => {
    const viewer = { role: 'viewer', agent: alice };
    expect(canDraw(viewer) || canReply(viewer) || canEdit(viewer, own)).toBe(false);
  });

  it('lets a commenter write and change only their own comments and replies', () => {
    const commenter = { role: 'commenter', agent: alice };
    expect(canDraw(commenter)).toBe(true);
    expect(canReply(commenter)).toBe(true);
    expect(canEdit(commenter, own)).toBe(true);
    expect(canEdit(commenter, ownReply)).toBe(true);
    expect(canEdit(commenter, ownTagging)).toBe(false);
    expect(canEdit(commenter, theirs)).toBe(false);
    expect(canEdit({ role: 'commenter', agent: undefined }, own)).toBe(false);
    expect(canDelete(commenter, own, [ownReply])).toBe(true);
    expect(canDelete(commenter, own, [theirs])).toBe(false);
  });

  it('lets an editor change anyone’s annotations', () => {
    const editor = { role: 'editor', agent: 'urn:sinopia:user:cleo' };
    expect(canEdit(editor, theirs)).toBe(true);
    expect(canDelete(editor, theirs, [own])).toBe(true);
  });

  it('keeps restore for leads and members for owners', () => {
    expect([canNameVersion('editor'), canRestore('editor'), canRestore('lead')]).toEqual([true, false, true]);
    expect([canEditTagList('commenter'), canEditTagList('editor')]).toEqual([false, true]);
    expect([canManageMembers('lead'), canManageMembers('owner')]).toEqual([false, true]);
  });
});
