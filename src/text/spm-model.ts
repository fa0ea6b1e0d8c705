/**
 * Parser for SentencePiece's `.model` file (a serialized `ModelProto`): the pieces with their scores and
 * types, the trainer options that change encoding (model type, byte fallback, whitespace as suffix) and the
 * normalizer spec (precompiled charsmap and the three whitespace flags).
 */
import { fieldFloat32, fieldString, readFields, WireType } from './protobuf.js';

export const enum PieceType {
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
}

export interface SpmPiece {
  piece: string;
  score: number;
  type: PieceType;
}

export interface NormalizerSpec {
  name: string;
  precompiledCharsmap: Uint8Array;
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

export interface SpmModel {
  pieces: SpmPiece[];
  /** 1 = unigram, 2 = BPE, 3 = word, 4 = char (TrainerSpec.ModelType). */
  modelType: number;
  byteFallback: boolean;
  treatWhitespaceAsSuffix: boolean;
  normalizer: NormalizerSpec;
}

export function parseSpmModel(buf: Uint8Array): SpmModel {
  const model: SpmModel = {
    pieces: [],
    modelType: 1,
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    normalizer: { name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true },
  };
  for (const f of readFields(buf)) {
    if (f.number === 1 && f.wireType === WireType.LengthDelimited) model.pieces.push(parsePiece(f.bytes));
    else if (f.number === 2 && f.wireType === WireType.LengthDelimited) parseTrainerSpec(f.bytes, model);
    else if (f.number === 3 && f.wireType === WireType.LengthDelimited) model.normalizer = parseNormalizerSpec(f.bytes);
  }
  return model;
}

function parsePiece(buf: Uint8Array): SpmPiece {
  const p: SpmPiece = { piece: '', score: 0, type: PieceType.Normal };
  for (const f of readFields(buf)) {
    if (f.number === 1 && f.wireType === WireType.LengthDelimited) p.piece = fieldString(f);
    else if (f.number === 2 && f.wireType === WireType.Fixed32) p.score = fieldFloat32(f);
    else if (f.number === 3 && f.wireType === WireType.Varint) p.type = f.varint as PieceType;
  }
  return p;
}

function parseTrainerSpec(buf: Uint8Array, model: SpmModel): void {
  for (const f of readFields(buf)) {
    if (f.wireType !== WireType.Varint) continue;
    if (f.number === 3) model.modelType = f.varint;
    else if (f.number === 24) model.treatWhitespaceAsSuffix = f.varint !== 0;
    else if (f.number === 35) model.byteFallback = f.varint !== 0;
  }
}

function parseNormalizerSpec(buf: Uint8Array): NormalizerSpec {
  const spec: NormalizerSpec = { name: '', precompiledCharsmap: new Uint8Array(0), addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true };
  for (const f of readFields(buf)) {
    if (f.number === 1 && f.wireType === WireType.LengthDelimited) spec.name = fieldString(f);
    else if (f.number === 2 && f.wireType === WireType.LengthDelimited) spec.precompiledCharsmap = f.bytes.slice();
    else if (f.number === 3 && f.wireType === WireType.Varint) spec.addDummyPrefix = f.varint !== 0;
    else if (f.number === 4 && f.wireType === WireType.Varint) spec.removeExtraWhitespaces = f.varint !== 0;
    else if (f.number === 5 && f.wireType === WireType.Varint) spec.escapeWhitespaces = f.varint !== 0;
  }
  return spec;
}
