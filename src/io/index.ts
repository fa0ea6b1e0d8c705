/** Checkpoint and model-folder I/O: everything here works on HostTensor (raw bytes), never on the compute addon. */
export { type HostDType, type HostTensor, type StoredTensor, inMemory, BYTES_PER_ELEMENT, numel, hostToFloat32, float32ToHost } from './host-tensor.js';
export { openSafetensors, writeSafetensors, type SafetensorsFile, type SafetensorsInfo, type TensorToWrite } from './safetensors.js';
export { readTorchStateDict, openTorchStateDict, type OpenedStateDict } from './torch-pickle.js';
export { loadStateDict, openStateDict, openWeightsFile, readWeightsFile, hasStateDict } from './state-dict.js';
export {
  readHfConfig, parseHfConfig,
  type HfConfig, type BertConfig, type DistilBertConfig, type T5Config, type Activation,
} from './hf-config.js';
export {
  readSentenceTransformer, readSentenceTransformerInput, isModelFolder, writeSentenceTransformer,
  type SentenceTransformerSpec, type SentenceTransformerInput, type ModuleSpec, type PoolingMode, type DenseActivation,
  type SentenceTransformerToWrite, type ModuleToWrite,
} from './sentence-transformers.js';
export { resolveModelPath, hubCacheDir, hfHome, sentenceTransformersHome, candidateHubIds, looksLikeHubId } from './resolve.js';
