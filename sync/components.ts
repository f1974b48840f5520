/** One attached component as central lists it to its hub (§4.3 `GET …/components`). */
export interface ComponentSpec {
  id: number;
  component_type: string;
  name: string | null;
  pin_number: number | null;
  pin_mode: string | null;
  default_state: string | null;
  config: Record<string, unknown> | null;
}

export function isComponentList(v: unknown): v is ComponentSpec[] {
  return (
    Array.isArray(v) &&
    v.every(
      (c: Partial<ComponentSpec>) =>
        typeof c === 'object' &&
        c !== null &&
        Number.isSafeInteger(c.id) &&
        typeof c.component_type === 'string' &&
        (c.pin_number === null || Number.isSafeInteger(c.pin_number)) &&
        (c.config === null || (typeof c.config === 'object' && !Array.isArray(c.config))),
    )
  );
}
