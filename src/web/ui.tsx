/** Small shared UI pieces: URL state, error messages, number fields, drop zones, formatting. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { formatNumber } from '../core/format.ts';

// ---------------------------------------------------------------------------------------------
// URL state: `#view=control&x0=1.5,-70` (reload keeps the view and its settings)

export function readHash(): URLSearchParams {
  return new URLSearchParams(location.hash.replace(/^#/, ''));
}

/** Updates some hash parameters (null deletes); `push` adds a history entry (view changes). */
export function writeHash(changes: Record<string, string | null>, push = false): void {
  const p = readHash();
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) p.delete(k);
    else p.set(k, v);
  }
  const url = `${location.pathname}${location.search}#${p.toString()}`;
  if (push) history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

// ---------------------------------------------------------------------------------------------

export function fmt(v: number | null | undefined, digits = 3): string {
  return formatNumber(v, { digits, trim: 'fixed', infinity: ['∞', '-∞'] });
}

export function ErrorMessage({ error, onDismiss }: { error: string | null; onDismiss?: () => void }) {
  if (!error) return null;
  return (
    <div class="error" role="alert" data-testid="error">
      <strong>Error:</strong> {error}
      {onDismiss && (
        <button type="button" class="link" onClick={onDismiss}>
          dismiss
        </button>
      )}
    </div>
  );
}

export function NumberField(p: { label: string; value: number; onChange: (v: number) => void; step?: number; min?: number; max?: number; id: string; hint?: string }) {
  const [text, setText] = useState<string | null>(null);
  return (
    <label class="field" for={p.id}>
      <span>{p.label}</span>
      <input
        id={p.id}
        type="number"
        step={p.step ?? 'any'}
        min={p.min}
        max={p.max}
        value={text ?? String(p.value)}
        onInput={(e) => {
          const s = (e.currentTarget as HTMLInputElement).value;
          setText(s);
          const v = Number(s);
          if (s.trim() !== '' && Number.isFinite(v)) p.onChange(v);
        }}
        onBlur={() => setText(null)}
        aria-describedby={p.hint ? `${p.id}-hint` : undefined}
      />
      {p.hint && (
        <small id={`${p.id}-hint`} class="hint">
          {p.hint}
        </small>
      )}
    </label>
  );
}

/** A drop zone that is also a labelled file input (keyboard: focus the button, Enter). */
export function DropZone(p: { id: string; label: string; accept: string; multiple?: boolean; onFiles: (files: File[]) => void; testId?: string }) {
  const [over, setOver] = useState(false);
  return (
    <div
      class={`dropzone${over ? ' over' : ''}`}
      data-testid={p.testId}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const files = Array.from(e.dataTransfer?.files ?? []);
        if (files.length) p.onFiles(files);
      }}
    >
      <label for={p.id}>{p.label}</label>
      <input
        id={p.id}
        type="file"
        accept={p.accept}
        multiple={p.multiple}
        onChange={(e) => {
          const input = e.currentTarget as HTMLInputElement;
          const files = Array.from(input.files ?? []);
          input.value = '';
          if (files.length) p.onFiles(files);
        }}
      />
      <span class="hint">or drop {p.multiple ? 'files' : 'a file'} here</span>
    </div>
  );
}

export function Section(p: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" aria-labelledby={p.id}>
      <h2 id={p.id}>{p.title}</h2>
      {p.children}
    </section>
  );
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
