// The viewer's mode from the user's capabilities (issue 10, "Roles"; capabilities.ts). Radiologists and
// administrators get the full viewer; referring physicians the basic one: scroll, window/level, zoom, pan,
// capture, and nothing that writes (measurement tools, key images, "Save to archive": shown and bound only
// when canAnnotate) and no AI (canAi). Technicians ("study" missing) get no viewer at all. The names are
// compared as strings so that a capability this build's list does not know yet (capabilities.ts drops
// unknown names) simply counts as missing: least privilege.
// The server enforces all of it on every request (role matrix); this only decides what is shown.

export interface ViewerMode {
  /** The study page mounts the image viewer ("study"). */
  viewer: boolean;
  /** Tools that write are shown and bound ("annotate"). */
  canAnnotate: boolean;
  /** The AI button and panel are shown ("ai"). */
  canAi: boolean;
}

export function viewerMode(capabilities: readonly string[]): ViewerMode {
  const has = (name: string): boolean => capabilities.includes(name);
  const viewer = has('study');
  return { viewer, canAnnotate: viewer && has('annotate'), canAi: viewer && has('ai') };
}

/** "full" or "basic": the viewer root's data-rr-mode (tests, styles). */
export function modeName(mode: Pick<ViewerMode, 'canAnnotate' | 'canAi'>): 'full' | 'basic' {
  return mode.canAnnotate ? 'full' : 'basic';
}
