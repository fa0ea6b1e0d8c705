/** The documents behind an index, for titles, snippets and `GET /documents/:id`. */
import { readBeirCorpus } from '../formats/index.js';

export interface ServedDocument {
  id: string;
  title: string;
  text: string;
}

export interface DocumentLookup {
  readonly size: number;
  get(id: string): ServedDocument | undefined;
}

/** An in-memory lookup over documents with distinct ids. */
export class DocumentMap implements DocumentLookup {
  private readonly byId = new Map<string, ServedDocument>();

  constructor(docs: Iterable<ServedDocument>) {
    for (const d of docs) this.byId.set(d.id, d);
  }

  get size(): number {
    return this.byId.size;
  }

  get(id: string): ServedDocument | undefined {
    return this.byId.get(id);
  }
}

/** A BEIR corpus.jsonl through the one reader (which refuses duplicate ids, bad bytes and an empty corpus). */
export async function readDocuments(path: string): Promise<DocumentMap> {
  const docs: ServedDocument[] = [];
  for await (const d of readBeirCorpus(path)) docs.push({ id: d.id, title: d.title, text: d.text });
  return new DocumentMap(docs);
}
