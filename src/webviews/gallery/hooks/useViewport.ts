// The grid's scroll position and size, and whether it is flying past (then new tiles wait for
// their images).
import { useLayoutEffect, useRef, useState, type MutableRef } from 'preact/hooks';
import type { Viewport } from '../layout.ts';

/** How long the grid must be still before tiles that flew in load their images. */
const SETTLE_MS = 120;

export function useViewport(gridRef: MutableRef<HTMLDivElement | null>): { viewport: Viewport; flying: boolean; onScroll: (el: HTMLDivElement) => void } {
  const [viewport, setViewport] = useState<Viewport>({ top: 0, width: 800, height: 600 });
  // Moving more than half a screen between two scroll events is flying past: new tiles wait
  // for their images until the grid has been still (or slow) for a moment.
  const [flying, setFlying] = useState(false);
  const settle = useRef<ReturnType<typeof setTimeout>>();
  const onScroll = (el: HTMLDivElement) => {
    const top = el.scrollTop;
    setViewport((v) => {
      if (Math.abs(top - v.top) > v.height / 2) {
        setFlying(true);
        clearTimeout(settle.current);
        settle.current = setTimeout(() => setFlying(false), SETTLE_MS);
      }
      return { ...v, top };
    });
  };

  useLayoutEffect(() => {
    const el = gridRef.current;
    if (!el) return;
    const measure = () => setViewport({ top: el.scrollTop, width: el.clientWidth, height: el.clientHeight });
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  return { viewport, flying, onScroll };
}
