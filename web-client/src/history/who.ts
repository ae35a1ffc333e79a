/** A principal as people read it: "user:alice" -> "alice"; tokens and share links as
 * they are (they say which token or link). */
export const who = (principal: string): string => principal.replace(/^user:/, '');
