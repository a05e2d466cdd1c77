// The matrix every command is about: rows are a topology's clients (`NS/WORKLOAD`), columns its
// targets (`NS/SERVICE:PORT`). Only a topology's client and target lists make one, so the oracle's
// predictions, a probe round's observations and their comparison all have the same keys in the same
// order, and `get` refuses any other key (as TruthTable.Get does in the Kubernetes netpol e2e
// framework, test/e2e/network/netpol/truthtable.go, whose Expected/Observed pair this follows).

/** How one cell is named wherever a person reads it: `test1/sleep -> test2/httpbin:8000`. */
export const cellName = (from: string, to: string): string => `${from} -> ${to}`;

class Layout {
  readonly rows: ReadonlyMap<string, number>;
  readonly columns: ReadonlyMap<string, number>;

  constructor(
    readonly clients: readonly string[],
    readonly targets: readonly string[],
  ) {
    this.rows = indexOf(clients, 'client');
    this.columns = indexOf(targets, 'target');
  }

  index(from: string, to: string): number {
    const row = this.rows.get(from);
    const column = this.columns.get(to);
    if (row === undefined || column === undefined)
      throw new Error(`${cellName(from, to)} is not a cell of this matrix (${row === undefined ? from : to} unknown)`);
    return row * this.targets.length + column;
  }

  sameAs(other: Layout): boolean {
    return (
      this === other ||
      (this.clients.length === other.clients.length &&
        this.targets.length === other.targets.length &&
        this.clients.every((c, i) => c === other.clients[i]) &&
        this.targets.every((t, i) => t === other.targets[i]))
    );
  }
}

function indexOf(ids: readonly string[], what: string): Map<string, number> {
  const index = new Map<string, number>();
  for (const [i, id] of ids.entries()) {
    if (index.has(id)) throw new Error(`${what} ${id} appears twice`);
    index.set(id, i);
  }
  return index;
}

export class Matrix<T> implements Iterable<T> {
  private constructor(
    private readonly layout: Layout,
    /** Row-major: every target of the first client, then of the next. */
    private readonly cells: readonly T[],
  ) {}

  /** One cell per (client, target) of `axes`, in row-major order. */
  static of<T, C extends { id: string }, G extends { id: string }>(
    axes: { clients: readonly C[]; targets: readonly G[] },
    cell: (client: C, target: G) => T,
  ): Matrix<T> {
    const layout = new Layout(
      axes.clients.map((c) => c.id),
      axes.targets.map((t) => t.id),
    );
    return new Matrix(
      layout,
      axes.clients.flatMap((c) => axes.targets.map((t) => cell(c, t))),
    );
  }

  /**
   * A matrix read back from the client and target ids a document was written with and its cells, which
   * name their own place: each must be there, once.
   */
  static fromCells<T extends { from: string; to: string }>(
    clients: readonly string[],
    targets: readonly string[],
    cells: readonly T[],
  ): Matrix<T> {
    const layout = new Layout(clients, targets);
    const placed: Array<T | undefined> = new Array(layout.clients.length * layout.targets.length).fill(undefined);
    for (const c of cells) {
      const i = layout.index(c.from, c.to);
      if (placed[i] !== undefined) throw new Error(`${cellName(c.from, c.to)} appears twice`);
      placed[i] = c;
    }
    const missing = placed.findIndex((c) => c === undefined);
    if (missing >= 0) {
      const from = layout.clients[Math.floor(missing / layout.targets.length)]!;
      const to = layout.targets[missing % layout.targets.length]!;
      throw new Error(`${cellName(from, to)} is missing`);
    }
    return new Matrix(layout, placed as T[]);
  }

  get clients(): readonly string[] {
    return this.layout.clients;
  }

  get targets(): readonly string[] {
    return this.layout.targets;
  }

  get size(): number {
    return this.cells.length;
  }

  get(from: string, to: string): T {
    return this.cells[this.layout.index(from, to)]!;
  }

  map<U>(f: (value: T, from: string, to: string) => U): Matrix<U> {
    return new Matrix(
      this.layout,
      this.cells.map((v, i) => f(v, this.from(i), this.to(i))),
    );
  }

  /** Cell by cell with a matrix of the same clients and targets. */
  zip<U, V>(other: Matrix<U>, f: (a: T, b: U, from: string, to: string) => V): Matrix<V> {
    if (!this.layout.sameAs(other.layout)) throw new Error('the two matrices have different clients or targets');
    return new Matrix(
      this.layout,
      this.cells.map((a, i) => f(a, other.cells[i]!, this.from(i), this.to(i))),
    );
  }

  *entries(): IterableIterator<[from: string, to: string, value: T]> {
    for (const [i, v] of this.cells.entries()) yield [this.from(i), this.to(i), v];
  }

  values(): T[] {
    return [...this.cells];
  }

  [Symbol.iterator](): Iterator<T> {
    return this.cells[Symbol.iterator]();
  }

  private from(i: number): string {
    return this.layout.clients[Math.floor(i / this.layout.targets.length)]!;
  }

  private to(i: number): string {
    return this.layout.targets[i % this.layout.targets.length]!;
  }
}
