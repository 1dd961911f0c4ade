/**
 * A small ONNX graph builder over the `onnx-proto` ModelProto classes (protobufjs-generated, so the
 * serialisation is the ONNX project's own schema, not hand-rolled). Browser-safe: no Node APIs.
 *
 * Opset 17: the first with `LayerNormalization` and the signal ops, supported by every ONNX Runtime
 * since 1.13 and by onnxruntime-web; it keeps ReduceMean/ReduceMax's `axes` as attributes (opset 18
 * moved them to inputs), which older runtimes and converters still expect.
 */
import onnxProto from 'onnx-proto';
import { VoxkitError } from '../../errors.js';

const { onnx } = onnxProto;

export const ONNX_OPSET = 17;
/** IR version 8 (ONNX 1.10–1.12): what opset 17 models carry and every current runtime reads. */
export const ONNX_IR_VERSION = 8;

/** A dimension: a fixed size or a symbolic name (dynamic axis). */
export type Dim = number | string;

export type ElemType = 'float' | 'double' | 'int64';

const ELEM_TYPE: Record<ElemType, number> = {
  float: onnx.TensorProto.DataType.FLOAT,
  double: onnx.TensorProto.DataType.DOUBLE,
  int64: onnx.TensorProto.DataType.INT64,
};

/**
 * Attribute values: a plain integer or integer list is INT/INTS (the common case: axes, strides),
 * a string is STRING; floats must be marked (`{ f: 0.5 }`, `{ floats: [...] }`) because 1.0 and 1
 * are the same JavaScript number.
 */
export type AttrValue = number | number[] | string | { f: number } | { floats: number[] };

export interface ValueInfo {
  name: string;
  elemType: ElemType;
  dims: Dim[];
  doc?: string;
}

type TensorValues = Float32Array | Float64Array | BigInt64Array;

function elemTypeOf(values: TensorValues): ElemType {
  if (values instanceof Float32Array) return 'float';
  if (values instanceof Float64Array) return 'double';
  return 'int64';
}

function valueInfoProto(v: ValueInfo): onnxProto.onnx.IValueInfoProto {
  return {
    name: v.name,
    docString: v.doc,
    type: {
      tensorType: {
        elemType: ELEM_TYPE[v.elemType],
        shape: { dim: v.dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attributeProto(name: string, value: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new VoxkitError('E_USAGE', `ONNX attribute ${name}: ${value} is not an integer (mark floats as { f })`);
    return { name, type: T.INT, i: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('f' in value) return { name, type: T.FLOAT, f: value.f };
  return { name, type: T.FLOATS, floats: value.floats };
}

export class OnnxGraph {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly usedNames = new Set<string>();
  private readonly constants = new Map<string, string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name based on `hint` (PyTorch module paths make readable graphs). */
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    while (this.usedNames.has(name)) name = `${base}_${++this.counter}`;
    this.usedNames.add(name);
    return name;
  }

  input(name: string, elemType: ElemType, dims: Dim[], doc?: string): string {
    if (this.usedNames.has(name)) throw new VoxkitError('E_USAGE', `ONNX graph: value name "${name}" is already used`);
    this.usedNames.add(name);
    this.inputs.push({ name, elemType, dims, doc });
    return name;
  }

  /** Declares `value` a graph output under `name` (an Identity node renames it when needed). */
  output(value: string, name: string, elemType: ElemType, dims: Dim[], doc?: string): string {
    let out = value;
    if (value !== name) {
      if (this.usedNames.has(name)) throw new VoxkitError('E_USAGE', `ONNX graph: value name "${name}" is already used`);
      this.usedNames.add(name);
      this.nodes.push({ opType: 'Identity', input: [value], output: [name], name: `${name}/identity` });
      out = name;
    }
    this.outputs.push({ name: out, elemType, dims, doc });
    return out;
  }

  /** A weight tensor; little-endian raw data, as ONNX stores it. */
  initializer(hint: string, values: TensorValues, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (values.length !== size) {
      throw new VoxkitError('E_SHAPE', `ONNX initializer ${hint}: ${values.length} values for dims [${dims.join(', ')}]`);
    }
    const name = this.fresh(hint);
    // Copy so the bytes are exactly this tensor (a view may share a larger buffer).
    const copy = values.slice() as TensorValues;
    this.initializers.push({
      name,
      dims: dims.slice(),
      dataType: ELEM_TYPE[elemTypeOf(values)],
      rawData: new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength),
    });
    return name;
  }

  /** A small constant, shared between uses of the same values. */
  constant(values: TensorValues, dims: readonly number[] = [values.length]): string {
    const key = `${elemTypeOf(values)}|${dims.join(',')}|${Array.from(values as ArrayLike<number | bigint>, String).join(',')}`;
    let name = this.constants.get(key);
    if (!name) {
      name = this.initializer('const', values, dims);
      this.constants.set(key, name);
    }
    return name;
  }

  /** float32 scalar (shape []) constant. */
  scalar(value: number): string {
    return this.constant(new Float32Array([value]), []);
  }

  /** int64 1-D constant (axes, shapes, pads). */
  ints(values: readonly number[]): string {
    return this.constant(BigInt64Array.from(values, (v) => BigInt(v)), [values.length]);
  }

  /** Adds a node with one output; returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, hint?: string): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0];
  }

  /** Adds a node with `numOutputs` outputs. An empty input name means "omitted optional input". */
  opN(opType: string, inputs: readonly string[], numOutputs: number, attrs: Record<string, AttrValue> = {}, hint?: string): string[] {
    const base = hint ?? opType;
    const outputs = Array.from({ length: numOutputs }, (_, i) => this.fresh(numOutputs === 1 ? base : `${base}:${i}`));
    this.nodes.push({
      opType,
      name: this.fresh(`${base}/${opType}`),
      input: inputs.slice(),
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attributeProto(k, v)),
    });
    return outputs;
  }

  /** Number of nodes so far (for tests and summaries). */
  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The model as a protobuf message object (not yet serialised). */
  toModel(metadata: Record<string, string>, producerVersion: string, doc?: string): onnxProto.onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }],
      producerName: 'voxkit',
      producerVersion,
      docString: doc,
      graph: onnx.GraphProto.create({
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs.map(valueInfoProto),
        output: this.outputs.map(valueInfoProto),
      }),
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    });
  }
}

/** Serialises a ModelProto to the bytes of a `.onnx` file. */
export function encodeModel(model: onnxProto.onnx.ModelProto): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

/** What `decodeModelSummary` reads back from `.onnx` bytes (without the weights' values). */
export interface OnnxModelSummary {
  irVersion: number;
  opset: number;
  producer: string;
  metadata: Record<string, string>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  opTypes: string[];
  initializers: number;
}

const ELEM_NAME = new Map<number, ElemType>(Object.entries(ELEM_TYPE).map(([k, v]) => [v, k as ElemType]));

/** Parses `.onnx` bytes: metadata, inputs/outputs with their dims, the op types used. */
export function decodeModelSummary(bytes: Uint8Array): OnnxModelSummary {
  let model: onnxProto.onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (cause) {
    throw new VoxkitError('E_CHECKPOINT', `not an ONNX model (${(cause as Error).message})`, { cause });
  }
  const info = (v: onnxProto.onnx.IValueInfoProto): ValueInfo => ({
    name: v.name ?? '',
    elemType: ELEM_NAME.get(v.type?.tensorType?.elemType ?? 0) ?? 'float',
    dims: (v.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0))),
    doc: v.docString || undefined,
  });
  const graph = model.graph;
  return {
    irVersion: Number(model.irVersion),
    opset: Number(model.opsetImport.find((o) => !o.domain)?.version ?? 0),
    producer: `${model.producerName} ${model.producerVersion}`.trim(),
    metadata: Object.fromEntries(model.metadataProps.map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: (graph?.input ?? []).map(info),
    outputs: (graph?.output ?? []).map(info),
    opTypes: [...new Set((graph?.node ?? []).map((n) => n.opType ?? ''))].sort(),
    initializers: graph?.initializer?.length ?? 0,
  };
}
