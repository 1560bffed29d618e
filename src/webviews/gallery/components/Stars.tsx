// A rating as five stars: read-only on a tile, a radio group (click the set star to clear) in
// the detail view. Unrated shows empty outlines.
export function Stars({ value, onRate, size = 'small' }: { value: number; onRate?: (n: number) => void; size?: string }) {
  return (
    <span class={`stars ${size}`} role={onRate ? 'radiogroup' : undefined} aria-label={onRate ? 'Rating' : `Rated ${value} of 5`}>
      {[1, 2, 3, 4, 5].map((n) =>
        onRate ? (
          <button type="button" role="radio" aria-checked={value === n} aria-label={`${n} star${n > 1 ? 's' : ''}`} class={n <= value ? 'on' : ''} onClick={() => onRate(value === n ? 0 : n)}>
            {n <= value ? '★' : '☆'}
          </button>
        ) : (
          <span aria-hidden="true" class={n <= value ? 'on' : ''}>
            {n <= value ? '★' : '☆'}
          </span>
        ),
      )}
    </span>
  );
}
