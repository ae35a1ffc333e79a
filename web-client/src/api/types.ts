// The shapes of the REST answers the app reads (see /api/openapi.json).

export interface Me {
  principal: string;
  kind: string;
  user: { id: string; name: string; email?: string | null; display_name?: string | null; admin: boolean } | null;
  agent: { id: string; type: string; name: string } | null;
  memberships: { workspace: string; role: string }[];
  scope: string[] | null;
  max_role: string | null;
  expires: number | null;
  csrf_token: string | null;
}

export interface Workspace {
  name: string;
  title: string;
  role: string | null;
}

export interface Member {
  user: string;
  user_id: string;
  role: string;
  email?: string | null;
  display_name?: string | null;
}

export interface ImageRef {
  service: string;
  width?: number | null;
  height?: number | null;
}

export interface SubjectItem {
  document: string;
  kind: string;
  id: string;
  label: string;
  manifest: string | null;
  manifest_label: string | null;
  thumbnail: ImageRef | null;
  image: ImageRef | null;
  annotations: number;
  changed: string | null;
  changed_by: string | null;
  changed_by_name?: string | null; // the last changer as people read them (display name)
}

export interface SubjectsPage {
  subjects: SubjectItem[];
  next: string | null;
  total: number;
}

export interface Tag {
  label: string;
  color: string;
}

export interface ImportResult {
  manifest: string;
  label: string;
  subjects: {
    kind: string;
    id: string;
    document: string;
    label: string;
    status: string;
    annotations_imported?: number;
    annotations_kept?: number;
  }[];
  // What the manifest carries that was not imported (or not whole), and why.
  warnings?: { where: string; message: string }[];
}

export interface Providers {
  oidc: boolean;
  login_url: string;
}
