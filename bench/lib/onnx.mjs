// Builds the ONNX models the onnxruntime adapters run, from the bench's own weights: a
// ModelProto whose graph is one LSTM or GRU node, with W, R, B as float initializers, opset 14.
// Field numbers are those of onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
// TensorProto, ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
//
// ONNX recurrent operators (https://onnx.ai/onnx/operators/onnx__LSTM.html, …__GRU.html):
//   X (T, B, I) with layout = 0 (time-major), num_directions = 1;
//   LSTM  W (1, 4H, I), R (1, 4H, H), B (1, 8H) = [Wb | Rb], gates in the order i, o, f, c;
//         outputs Y (T, 1, B, H), Y_h (1, B, H), Y_c (1, B, H).
//   GRU   W (1, 3H, I), R (1, 3H, H), B (1, 6H), gates z, r, h; linear_before_reset = 1 gives
//         PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); outputs Y, Y_h.
import { ProtoWriter } from './protobuf.mjs';

const IR_VERSION = 8;   // ONNX 1.10+; opset 14 needs IR ≥ 7
const OPSET = 14;
const FLOAT = 1;        // TensorProto.DataType.FLOAT
const ATTR_INT = 2;     // AttributeProto.AttributeType.INT

// TensorProto: dims = 1 (repeated int64), data_type = 2, name = 8, raw_data = 9 (little-endian).
function tensorProto(w, name, dims, data) {
  for (const d of dims) w.int(1, d);
  w.int(2, FLOAT);
  w.string(8, name);
  const le = new Uint8Array(data.buffer, data.byteOffset, data.byteLength); // x86/ARM are little-endian
  w.bytes(9, le);
}

// ValueInfoProto: name = 1, type = 2 → TypeProto.tensor_type = 1 → { elem_type = 1, shape = 2 }
// → TensorShapeProto.dim = 1 → Dimension.dim_value = 1.
function valueInfo(w, name, dims) {
  w.string(1, name);
  w.message(2, (type) => type.message(1, (tt) => {
    tt.int(1, FLOAT);
    tt.message(2, (shape) => { for (const d of dims) shape.message(1, (dim) => dim.int(1, d)); });
  }));
}

// AttributeProto: name = 1, i = 3, type = 20.
function intAttribute(w, name, value) {
  w.string(1, name);
  w.int(3, value);
  w.int(20, ATTR_INT);
}

/**
 * One-node recurrent model for input X (T, batch, I). `op` is 'LSTM' or 'GRU'; `weights` = { W, R,
 * B }, Float32Arrays already in ONNX gate order (onnxWeights in bench/lib/weights.mjs).
 * Returns the serialized ModelProto bytes, ready for InferenceSession.create(bytes).
 */
export function recurrentModel({ op, T, batch, I, H }, { W, R, B }) {
  const G = op === 'LSTM' ? 4 : 3;
  if (op !== 'LSTM' && op !== 'GRU') throw new Error(`onnx: unsupported op ${op}`);
  if (W.length !== G * H * I || R.length !== G * H * H || B.length !== 2 * G * H) {
    throw new Error(`onnx: ${op} weights have the wrong sizes for I=${I}, H=${H}`);
  }
  const outputs = op === 'LSTM'
    ? [['Y', [T, 1, batch, H]], ['Y_h', [1, batch, H]], ['Y_c', [1, batch, H]]]
    : [['Y', [T, 1, batch, H]], ['Y_h', [1, batch, H]]];

  const model = new ProtoWriter();
  model.int(1, IR_VERSION);                                        // ir_version
  model.string(2, 'wasm-rnn bench');                               // producer_name
  model.message(8, (opset) => { opset.string(1, ''); opset.int(2, OPSET); }); // opset_import
  model.message(7, (graph) => {                                    // graph
    graph.message(1, (node) => {                                   //   node
      for (const name of ['X', 'W', 'R', 'B']) node.string(1, name);
      for (const [name] of outputs) node.string(2, name);
      node.string(3, op.toLowerCase());
      node.string(4, op);                                          //   op_type
      node.message(5, (a) => intAttribute(a, 'hidden_size', H));
      if (op === 'GRU') node.message(5, (a) => intAttribute(a, 'linear_before_reset', 1));
    });
    graph.string(2, `${op.toLowerCase()}_graph`);
    graph.message(5, (t) => tensorProto(t, 'W', [1, G * H, I], W));  // initializers
    graph.message(5, (t) => tensorProto(t, 'R', [1, G * H, H], R));
    graph.message(5, (t) => tensorProto(t, 'B', [1, 2 * G * H], B));
    graph.message(11, (v) => valueInfo(v, 'X', [T, batch, I]));    // input
    for (const [name, dims] of outputs) graph.message(12, (v) => valueInfo(v, name, dims)); // outputs
  });
  return model.finish();
}
