// Listening to the host's notifications from a component, with a handler per notification.
import { useEffect } from 'preact/hooks';
import type { NotificationHandlers } from '../../protocol.ts';
import { onNotifications } from '../rpc.ts';

export interface HostListener {
  handlers: NotificationHandlers;
  /** Runs once the handlers listen: what would be missed before (a first request, the page's
   * `ready`) goes here, so nothing the host says in between is lost. */
  listening?: () => void;
  /** Runs when they stop (unmounted, or `deps` changed). */
  stop?: () => void;
}

/** While the component is mounted, and anew when `deps` change: `setup()`'s handlers listen. */
export function useHostMessages(setup: () => HostListener, deps: readonly unknown[]): void {
  useEffect(() => {
    const { handlers, listening, stop } = setup();
    const off = onNotifications(handlers);
    listening?.();
    return () => {
      off();
      stop?.();
    };
  }, deps);
}
