/** An author as people read them: the name the server looked up for the pseudonymous id
 * (`principal_name`); without one (a share link, a person no longer known), the label
 * itself, "user:alice" -> "alice" for entries from before ids were used. */
export const who = (c: { principal: string; principal_name?: string | null }): string =>
  c.principal_name || c.principal.replace(/^user:/, '');
