/** The documents behind an index, for titles, snippets and `GET /documents/:id`. */
export interface ServedDocument {
  id: string;
  title: string;
  text: string;
}

export interface DocumentLookup {
  readonly size: number;
  get(id: string): ServedDocument | undefined;
}

/** An in-memory lookup over any sequence of documents; a repeated id is an error, not a silent overwrite. */
export class DocumentMap implements DocumentLookup {
  private readonly byId = new Map<string, ServedDocument>();

  constructor(docs: Iterable<ServedDocument>, source = 'corpus') {
    for (const d of docs) {
      if (this.byId.has(d.id)) throw new Error(`${source}: document id ${JSON.stringify(d.id)} appears twice`);
      this.byId.set(d.id, d);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): ServedDocument | undefined {
    return this.byId.get(id);
  }
}
