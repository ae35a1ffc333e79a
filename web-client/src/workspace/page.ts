// A workspace: its subjects (search, filters, import), and for owners its members, for
// editors its tag list.

import { enc, get } from '../api/http';
import type { Workspace } from '../api/types';
import { roleIn, type AppContext, type PageView } from '../app/context';
import { errorDetail, errorPage, troubleOf } from '../app/errors';
import { t } from '../i18n';
import { canEditTagList, canImport, canManageMembers } from '../roles/rules';
import { h } from '../ui/dom';
import { importPanel } from './import';
import { membersPanel } from './members';
import { reportsPanel } from './reports';
import { subjectsPanel } from './subjects';
import { tagsPanel } from './tags';
import { roleLabel } from '../home/page';

export const workspacePage = async (ctx: AppContext, ws: string): Promise<PageView> => {
  let workspace: Workspace;
  try {
    workspace = await get<Workspace>(`/api/workspaces/${enc(ws)}`);
  } catch (error) {
    const trouble = troubleOf(error, 'forbidden');
    return errorPage(trouble, { detail: errorDetail(error) });
  }
  const role = workspace.role ?? roleIn(ctx.me, ws);
  ctx.crumbs([{ label: workspace.title || ws }]);
  const subjects = subjectsPanel(ctx, ws);
  const node = h(
    'section',
    { class: 'page page-workspace', 'aria-labelledby': 'ws-title' },
    h(
      'div',
      { class: 'page-head' },
      h('h1', { id: 'ws-title' }, workspace.title || ws),
      role ? h('span', { class: 'badge' }, t('workspace.yourRole', { role: roleLabel(role) })) : null,
    ),
    subjects.node,
    reportsPanel(ctx, ws, role).node,
    h(
      'div',
      { class: 'side-by-side' },
      canImport(role) ? importPanel(ws, () => subjects.reload()) : null,
      tagsPanel(ws, canEditTagList(role)),
      canManageMembers(role) ? membersPanel(ctx, ws) : null,
    ),
  );
  return { title: workspace.title || ws, node, dispose: () => subjects.dispose() };
};
