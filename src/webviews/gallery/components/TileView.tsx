// One tile of the grid: a product's thumbnail, or a running (or failed) job's progress.
import { Component } from 'preact';
import type { Tile } from '../../protocol.ts';
import { Stars } from './Stars.tsx';
import { formatCost } from '../../../engine/cost/format.ts';

export interface TileProps {
  t: Tile;
  index: number;
  selected: boolean;
  focused: boolean;
  size: number;
  /** False while the grid flies past (a fling, End, a dragged scrollbar): decoding images that
   * are gone a frame later is what makes fast scrolling stutter, so new tiles wait. */
  loadImage: boolean;
  onClick: (e: MouseEvent, i: number) => void;
  onOpen: (i: number) => void;
}

/** What a tile is called: its prompt, else an imported image's file name, else its model. */
function label(t: Tile): string {
  if (t.kind === 'job') return `${t.state === 'failed' ? 'Failed' : 'Generating'}: ${t.prompt || t.model}`;
  return t.prompt || t.name || `${t.provider} ${t.model}`;
}

/** The tooltip: what the tile is, and for a product what it cost. */
function tooltip(t: Tile): string {
  return t.kind === 'product' ? `${label(t)}\n${t.model}${t.cost ? ` · ${formatCost(t.cost)}` : ''}` : label(t);
}

/** Scrolling re-renders the grid on every frame; a tile whose data did not change is skipped
 * (its handlers read the newest props when they run, so they are never stale). */
export class TileView extends Component<TileProps> {
  override shouldComponentUpdate(n: TileProps): boolean {
    const p = this.props;
    return n.t !== p.t || n.index !== p.index || n.selected !== p.selected || n.focused !== p.focused || n.size !== p.size || (n.loadImage && !this.imageShown);
  }

  /** Once a tile shows its image it keeps it, however fast the grid moves afterwards. */
  private imageShown = false;
  private readonly click = (e: MouseEvent) => this.props.onClick(e, this.props.index);
  private readonly open = () => this.props.onOpen(this.props.index);

  override render({ t, selected, focused, size, loadImage }: TileProps) {
    this.imageShown ||= loadImage;
    return (
      <div
        id={`tile-${t.id}`}
        role="gridcell"
        aria-selected={selected}
        title={tooltip(t)}
        aria-label={`${label(t)}${t.favorite ? ', favourite' : ''}${t.rating ? `, ${t.rating} stars` : ''}`}
        class={`tile ${t.kind} ${selected ? 'selected' : ''} ${focused ? 'focused' : ''} ${t.state === 'failed' ? 'failed' : ''}`}
        style={{ width: `${size}px`, height: `${size}px` }}
        onClick={this.click}
        onDblClick={this.open}
      >
        {t.kind === 'product' && t.thumb && !this.imageShown ? (
          <div class="placeholder" />
        ) : t.kind === 'product' && t.thumb ? (
          <>
            <img src={t.thumb} alt={`${t.media === 'video' ? 'Video: ' : ''}${t.prompt || t.name || `${t.model} output`}`} decoding="async" draggable={false} />
            {t.media === 'video' && (
              <span class="media-badge" aria-hidden="true">
                ▶
              </span>
            )}
          </>
        ) : t.kind === 'product' ? (
          <div class="placeholder">{t.media}</div>
        ) : (
          <div class="placeholder job">
            <span class="job-state">{t.state === 'failed' ? `Failed: ${t.error ?? ''}` : (t.status ?? t.state)}</span>
            {t.progress !== undefined && t.state !== 'failed' && (
              <div class="progress" role="progressbar" aria-label="Progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(t.progress * 100)}>
                <div style={{ width: `${Math.round(t.progress * 100)}%` }} />
              </div>
            )}
          </div>
        )}
        <div class="badges" aria-hidden="true">
          {t.favorite && <span class="fav">♥</span>}
          {t.rating > 0 && <Stars value={t.rating} />}
        </div>
      </div>
    );
  }
}
