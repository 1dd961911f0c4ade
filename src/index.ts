/**
 * voxkit library API. Grouped by layer; everything here except the `*Node` group runs in a browser
 * too (the Node group reads files and spawns ffmpeg).
 */

// Errors
export { VoxkitError, AudioFormatError, CheckpointError, ShapeError, UnknownComponentError, formatError } from './errors.js';
export type { VoxkitErrorCode, KeyMismatch } from './errors.js';

// Engine and plain tensors
export { useBackend, defaultBackend, BACKEND_NAMES } from './core/backend.js';
export type { BackendName } from './core/backend.js';
export type { TensorData, StateDict, DType } from './core/tensor-data.js';
export { VERSION } from './version.js';

// Audio
export {
  decodeWav,
  encodeWav,
  toMono,
  resample,
  normalizeVolume,
  createWebrtcVad,
  vadFlags,
  trimLongSilences,
  preprocessWav,
  evalCrops,
  wrapPad,
} from './audio/index.js';
export type { DecodedAudio, EncodeWavOptions, WebrtcVad, PreprocessWavOptions, EvalCropOptions } from './audio/index.js';

// Front-ends
export { voxcelebLogMel, voxcelebLogMelBatch, VOXCELEB_FRONTENDS, rtvcMel, htkMelFilterbank, slaneyMelFilterbank, preEmphasis } from './features/index.js';
export type { VoxcelebLogMelOptions, VoxcelebLogMelResult, RtvcMelOptions, RtvcMelResult } from './features/index.js';

// Checkpoints
export { readTorchCheckpoint, interpretCheckpoint, writeTorchCheckpoint } from './io/index.js';
export type { TorchCheckpoint, ModelCheckpoint, CheckpointLayout, ArchitectureName } from './io/index.js';
export { encodeNpy } from './io/npy.js';

// Models
export { Module } from './models/module.js';
export type { LoadReport, LoadOptions } from './models/module.js';
export { SpeakerEncoder } from './models/encoder.js';
export { MODEL_REGISTRY, MODEL_NAMES, resolveModelName, modelSpec } from './models/registry.js';
export type { ModelName, ModelSpec, EmbeddingStrategy } from './models/registry.js';
export { ResNetSE34L, DEFAULT_RESNET_SE34L_CONFIG } from './models/resnet-se34l.js';
export type { ResNetSE34LConfig } from './models/resnet-se34l.js';
export { ResNetSE34V2, DEFAULT_RESNET_SE34V2_CONFIG } from './models/resnet-se34v2.js';
export type { ResNetSE34V2Config } from './models/resnet-se34v2.js';
export { VGGVox, DEFAULT_VGGVOX_CONFIG } from './models/vggvox.js';
export type { VGGVoxConfig } from './models/vggvox.js';
export { RawNet3, DEFAULT_RAWNET3_CONFIG } from './models/rawnet3.js';
export type { RawNet3Config } from './models/rawnet3.js';
export { RtvcEncoder, DEFAULT_RTVC_ENCODER_CONFIG } from './models/rtvc-encoder.js';
export type { RtvcEncoderConfig } from './models/rtvc-encoder.js';
export { SingerEncoder, DEFAULT_SINGER_ENCODER_CONFIG } from './models/singer-encoder.js';
export type { SingerEncoderConfig } from './models/singer-encoder.js';
export { embedUtterance, computePartialSlices } from './models/partial-utterances.js';
export type { UtteranceEmbedding, EmbedUtteranceOptions } from './models/partial-utterances.js';

// Losses
export { SpeakerLoss } from './losses/loss.js';
export type { LossInput, LossOutput, GradientPolicy } from './losses/loss.js';
export { LOSS_REGISTRY, LOSS_NAMES, createLoss, resolveLossName } from './losses/registry.js';
export type { LossName, LossOptions } from './losses/registry.js';

// Training pieces (browser-safe)
export { createOptimizer } from './train/optimizer.js';
export { createScheduler } from './train/scheduler.js';
export { trainStep } from './train/step.js';
export { clipGradNorm } from './train/gradients.js';
export { parseTrainList, buildDataset, splitBySpeaker, VoxcelebSampler, Ge2eSampler, createBatchSampler } from './data/index.js';
export type { SpeakerDataset, Utterance, SampledBatch } from './data/index.js';
export { computeFeatures } from './features/feature-spec.js';
export type { FeatureSpec } from './features/feature-spec.js';
export { Random, seedWeightInit } from './core/random.js';

// Evaluation
export { verificationMetrics, computeEer, computeMinDcf, computeErrorRates, rocCurve, tuneThresholdFromScore, interpolatedEer } from './eval/metrics.js';
export { parseTrialList, formatTrialList, generateTrials } from './eval/trials.js';
export type { Trial } from './eval/trials.js';

// Embedding verbs
export { embedWaveform, cosineSimilarity, l2Normalize } from './api/embed.js';
export type { EmbedOptions, EmbeddingResult } from './api/embed.js';

// Node: files
export { loadAudio, writeWav } from './audio/load-node.js';
export type { LoadedAudio, LoadAudioOptions } from './audio/load-node.js';
export { loadCheckpointFile } from './io/load-checkpoint-node.js';
export { loadEncoder, embedFile } from './api/load-encoder-node.js';
export type { LoadedEncoder, LoadEncoderOptions } from './api/load-encoder-node.js';
export { train, checkTrainConfig, resumeConfig } from './train/trainer.js';
export type { TrainOptions, TrainResult } from './train/trainer.js';
export { loadTrainConfig } from './train/config.js';
export type { TrainConfig, TrainConfigInput } from './train/config.js';
export type { TrainEvent } from './train/events.js';
export { BatchLoader } from './data/batch-loader-node.js';
export { readSpeakerDataset } from './data/dataset-node.js';
export { validateTrainingSet } from './data/validate-node.js';
export { synthesizeCorpus } from './synth/corpus-node.js';
export type { SynthesizeCorpusOptions, SynthCorpusResult } from './synth/corpus-node.js';
export { runDemo } from './demo/demo-node.js';
export type { DemoOptions, DemoResult } from './demo/demo-node.js';

// Evaluation plots and embedding projection (browser-safe charts; files and PNG in Node)
export { detCurve, detAxisRange, detPlotPoints, inverseNormalCdf, DET_TICK_RATES } from './report/det.js';
export type { DetCurve, DetPoint, DetOperatingPoint, DetAxisRange } from './report/det.js';
export { detChartSpec, detChartSvg, scoreHistogramBins, scoreHistogramSpec, scoreHistogramSvg, projectionChartSpec, projectionChartSvg } from './report/eval-plots.js';
export type { DetChartOptions, ScoreHistogramOptions, ProjectionChartOptions, HistogramBin } from './report/eval-plots.js';
export { projectEmbeddings, sampleIndicesPerGroup } from './eval/projection.js';
export type { Projection, ProjectionOptions, ProjectionMethod } from './eval/projection.js';
export { svgToPng, canRenderText } from './report/png-node.js';
export type { SvgToPngOptions } from './report/png-node.js';
export { writeEvalPlots } from './report/eval-plots-node.js';
export type { EvalPlotInput } from './report/eval-plots-node.js';

// Dataset download and audio conversion (Node)
export { convertAudioFiles, planConversion, isCompleteWav, writeConversionFailures, COMPRESSED_AUDIO_EXTENSIONS } from './data/convert-node.js';
export type { ConversionJob, ConversionProgress, ConversionResult, ConvertOptions } from './data/convert-node.js';
export { downloadDataset } from './data/download/download-node.js';
export type { DownloadDatasetOptions, DownloadDatasetResult, DownloadEvent } from './data/download/download-node.js';
export { downloadFile } from './data/download/http-node.js';
export type { HttpDownloadOptions, HttpDownloadResult } from './data/download/http-node.js';
export { extractArchive } from './data/download/extract-node.js';
export { md5File } from './data/download/md5-node.js';
export { DATASETS, DATASET_NAMES, parsePartsFile } from './data/download/parts.js';
export type { DatasetName, DatasetSpec, DownloadPart, ArchiveSpec } from './data/download/parts.js';

// Evaluation on trial lists: scoring, score normalisation (browser-safe), embedding cache and evaluateTrials (Node)
export { embedForScoring, scorableRecording, scorePair, negativeMeanDistance, pooledEmbedding, unitVector, speakerCohort, cohortScores, topScoreStats, symmetricNormalize, normalizeScores, plansCrops, SCORING_MODES, SCORE_NORMS } from './eval/scoring.js';
export type { ScoringMode, ScoreNorm, EmbeddingPlan, ScorableRecording, CohortStats, NormalizeScoresOptions } from './eval/scoring.js';
export { EmbeddingCache, defaultEmbeddingCacheDir, recordingKey } from './eval/embedding-cache-node.js';
export type { EmbeddingCacheKey, EmbeddingCacheStatus } from './eval/embedding-cache-node.js';
export { evaluateTrials, formatScoreLines, DEFAULT_NUM_EVAL, DEFAULT_EVAL_FRAMES, DEFAULT_TOP_N } from './eval/evaluate-node.js';
export type { EvaluateTrialsOptions, EvaluationResult, EvaluationProgress, CohortOptions } from './eval/evaluate-node.js';

// Corpus preparation (voxkit prepare): corpus readers (browser-safe, through CorpusFileSystem) and prepareCorpus (Node)
export { CORPUS_REGISTRY, CORPUS_NAMES, getCorpusReader } from './data/corpora/registry.js';
export type { CorpusReader, CorpusUtterance, CorpusProblem, CorpusProblemKind, CorpusScanResult, CorpusOptions, CorpusFileSystem, OfficialTrialList } from './data/corpora/types.js';
export { ANGLOPHONE_NATIONALITIES, VOXCELEB1_TRIAL_LISTS, parseVoxcelebMeta } from './data/corpora/voxceleb.js';
export { LIBRISPEECH_SUBSETS, parseLibriSpeechSpeakers, parseLibriSpeechTranscript } from './data/corpora/librispeech.js';
export { parseVctkSpeakerInfo } from './data/corpora/vctk.js';
export { COMMON_VOICE_TSVS, parseCommonVoiceTsv, parseClipDurations } from './data/corpora/commonvoice.js';
export { parseMailabsMetadataCsv, parseMailabsMetadataJson } from './data/corpora/mailabs.js';
export { readWavHeader } from './data/corpora/wav-header.js';
export type { WavHeaderInfo } from './data/corpora/wav-header.js';
export { nodeCorpusFileSystem } from './data/corpora/scan-node.js';
export { prepareCorpus, formatSummaryTable, trialCapacity } from './data/prepare-node.js';
export type { PrepareCorpusOptions, PrepareResult, PrepareSummary, PrepareProgress } from './data/prepare-node.js';

// Speakers: open-set identification (browser-safe), the LMDB speaker database, enrollFiles/identifyFiles (Node)
export { identifyEmbedding, calibrateThreshold, speakerCentroid, scoreSpeaker } from './speakers/identify.js';
export type { EnrolledSpeaker, IdentifyOptions, IdentifyResult, SpeakerScoring, ThresholdCalibration } from './speakers/identify.js';
export { SpeakerDatabase, normalizeSpeakerName } from './speakers/database-node.js';
export type { ModelIdentity, StoredSpeaker, StoredThreshold, OpenSpeakerDatabaseOptions } from './speakers/database-node.js';
export { enrollFiles, identifyFiles, identifyFile, modelIdentity, DEFAULT_IDENTIFY_THRESHOLD } from './speakers/enroll-node.js';
export type { EnrollResult, IdentifyFilesOptions, FileIdentification, SpeakerEncoderOptions } from './speakers/enroll-node.js';

// Clustering: AHC and spectral clustering with a confidence rule (browser-safe), voxkit cluster's collection labelling (Node)
export { clusterEmbeddings, isConfident, clusterMargins, relabelBySize, DEFAULT_AHC_THRESHOLD, CONFIDENCE_MARGIN_SCALE, CONFIDENCE_RELATIVE_SCALE } from './cluster/cluster.js';
export type { ClusterMethod, ClusterOptions, ClusterResult } from './cluster/cluster.js';
export { agglomerativeClustering, ahcMerges, labelsAfterMerges, cosineSimilarityMatrix } from './cluster/ahc.js';
export type { AhcLinkage, AhcMerge, AhcOptions } from './cluster/ahc.js';
export { spectralClustering, analyseSpectrum, kMeans, DEFAULT_SPECTRAL_MAX_CLUSTERS } from './cluster/spectral.js';
export type { SpectralOptions, SpectralAnalysis, KMeansOptions } from './cluster/spectral.js';
export { symmetricEigenvalues } from './cluster/symmetric-eigenvalues.js';
export { adjustedRandIndex, clusterPurity } from './cluster/metrics.js';
export { clusterCollection, findCollectionFiles, formatGroupsTrainList, formatUncertain, clusterLabel, DEFAULT_MIN_CONFIDENCE, COLLECTION_FILES } from './cluster/collection-node.js';
export type { ClusterCollectionOptions, CollectionReport, CollectionCluster, CollectionMember, CollectionFile, FoundFiles, SkippedFile } from './cluster/collection-node.js';

// Kaldi-compatible fbank (torchaudio.compliance.kaldi.fbank; WeSpeaker / pyannote / sherpa-onnx front-end), browser-safe
export { KaldiFbank, kaldiFbank, kaldiMelBanks, kaldiWindow, subtractColumnMeans, KALDI_FBANK_PRESETS } from './features/kaldi-fbank.js';
export type { KaldiFbankOptions, KaldiFbankResult, KaldiWindowType } from './features/kaldi-fbank.js';

// Speech engines of voxkit synth, for single utterances (Flite; eSpeak NG when installed): the same request gives the same samples
export { loadEngine, loadSpeechEngines } from './synth/engines/load-engines-node.js';
export type { SpeechEngine, SynthesisRequest, SynthesizedSpeech } from './synth/engines/engine.js';

// Diarization: who spoke when — speech activity, windows, clustering, segments, RTTM, DER, test conversations (browser-safe), files and --db naming (Node)
export {
  diarizeWaveform,
  embedWindows,
  renameSpeakers,
  centerEmbeddings,
  smoothAlongRegions,
  meanSilhouette,
  dissolveSmallClusters,
  defaultSpeakerName,
  DEFAULT_DIARIZE_METHOD,
  DEFAULT_DIARIZE_THRESHOLD,
  DEFAULT_SMOOTH_WINDOWS,
  DEFAULT_MIN_CLUSTER_SHARE,
  DEFAULT_MAX_SPEAKERS as DEFAULT_DIARIZE_MAX_SPEAKERS,
  DEFAULT_MIN_CONFIDENCE as DEFAULT_DIARIZE_MIN_CONFIDENCE,
} from './diarize/diarize.js';
export type { DiarizeOptions, DiarizationResult, DiarizedSegment, DiarizedSpeaker } from './diarize/diarize.js';
export { detectSpeechRegions, speechRegionsFromFlags, DEFAULT_SPEECH_SMOOTHING } from './diarize/speech-activity.js';
export type { SpeechRegion, SpeechActivityOptions, SpeechSmoothingOptions } from './diarize/speech-activity.js';
export { slidingWindows, DEFAULT_WINDOW_SEC, DEFAULT_HOP_SEC } from './diarize/windows.js';
export type { AnalysisWindow, WindowOptions } from './diarize/windows.js';
export { frameLabels, majorityFilter, labelRuns, smoothSegments, scoreSegments, windowsToSegments, DEFAULT_SEGMENT_SMOOTHING } from './diarize/segments.js';
export type { LabelledWindow, SegmentSmoothingOptions, ClusterSegment, ScoredSegment } from './diarize/segments.js';
export { formatRttm, parseRttm, groupRttmByFile, rttmToken } from './diarize/rttm.js';
export type { SpeakerTurn, RttmRecord } from './diarize/rttm.js';
export { diarizationErrorRate } from './diarize/der.js';
export type { DerOptions, DerResult } from './diarize/der.js';
export { maxWeightAssignment } from './diarize/assignment.js';
export { matchEnrolledSpeakers, nameWithEnrolledSpeakers } from './diarize/naming.js';
export type { SpeakerNaming } from './diarize/naming.js';
export { assembleConversation, voicedExtent } from './diarize/conversation.js';
export type { Conversation, ConversationOptions, ConversationTurn, ConversationUtterance } from './diarize/conversation.js';
export { assembleConversationSet, scoreConversation, summarizeScores, formatScoreTable } from './diarize/conversation-eval.js';
export type { ConversationSetOptions, ConversationScore, ScoreSummary } from './diarize/conversation-eval.js';
export { diarizeFile, nameFromDatabase } from './diarize/diarize-node.js';
export type { DiarizeFileOptions, FileDiarization } from './diarize/diarize-node.js';
export { loadCorpusUtterances } from './diarize/conversation-corpus-node.js';
export type { CorpusUtteranceOptions } from './diarize/conversation-corpus-node.js';

// ONNX export and ONNX Runtime inference
export { exportOnnx, ONNX_IO } from './export/onnx/export.js';
export type { OnnxExport, OnnxExportOptions, FrontendLocation } from './export/onnx/export.js';
export { OnnxGraph, encodeModel, decodeModelSummary, ONNX_OPSET, ONNX_IR_VERSION } from './export/onnx/graph.js';
export type { OnnxModelSummary, AttrValue, Dim, ElemType, ValueInfo } from './export/onnx/graph.js';
export { exportOnnxFile, SELF_CHECK_TOLERANCE } from './export/onnx/export-file-node.js';
export type { ExportOnnxFileOptions, ExportOnnxFileResult } from './export/onnx/export-file-node.js';
export { OrtEngine, loadOnnxRuntime, defaultOrtThreads } from './engine/ort-node.js';
export type { OrtEngineOptions } from './engine/ort-node.js';
export { tfjsEngine, isEmbeddingEngine } from './api/embed.js';
export type { EmbeddingEngine } from './api/embed.js';
export { disposeLoadedEncoder, ENGINE_CHOICES } from './api/load-encoder-node.js';
export type { EngineChoice } from './api/load-encoder-node.js';
export { embedUtteranceAsync } from './models/partial-utterances.js';
export type { AsyncPartialUtteranceEncoder } from './models/partial-utterances.js';

// Augmentation: seeded noise/music/babble/reverb, speed perturbation and SpecAugment (browser-safe), MUSAN/RIR lists, noise audio per loader thread and `prepare musan|rirs` (Node)
export {
  AUGMENT_TYPES,
  NOISE_TYPES,
  DEFAULT_SNR_DB,
  DEFAULT_NUM_NOISES,
  DEFAULT_SPEED_FACTORS,
  DEFAULT_SPEC_AUGMENT,
  EMPTY_NOISE_SETS,
  planAugmentation,
  filesOfPlans,
  applyWaveAugmentation,
  applySpecAugment,
  mixNoises,
  reverberate,
  speedPerturbedCrop,
  speedPerturb,
  cropAt,
  levelDb,
  snrGain,
  checkNoiseSets,
  augmentationActive,
} from './data/augment/augment.js';
export type { AugmentType, NoiseType, AugmentSettings, AugmentPlan, NoiseSets, NoiseMix, SpecMask, SpecAugmentSettings, BatchAugmentation } from './data/augment/augment.js';
export { readNoiseSets, readMusanSet, readRirSet, MUSAN_SPLIT_DIR, MUSAN_LIST_FILE, RIRS_LIST_FILE, DEFAULT_RIR_ROOMS } from './data/augment/noise-sets-node.js';
export type { NoiseSources } from './data/augment/noise-sets-node.js';
export { batchAugmentation, AudioLru } from './data/augment/noise-audio-node.js';
export type { AugmentLoadSettings } from './data/augment/noise-audio-node.js';
export { prepareMusan, musanChunkStarts } from './data/corpora/musan-node.js';
export type { PrepareMusanOptions, PrepareMusanResult } from './data/corpora/musan-node.js';
export { prepareRirs } from './data/corpora/rirs-node.js';
export type { PrepareRirsOptions, PrepareRirsResult } from './data/corpora/rirs-node.js';
export { augmentSettingsOf, resolveAugmentConfig } from './train/config.js';

// Feature cache, SV2TTS preprocessing and loadInput (training data pipeline)
export { buildFeatureCache, locateCachedFiles, readFeatureCacheIndex, featureCacheInfo } from './data/feature-cache-node.js';
export type { BuildFeatureCacheOptions, BuildFeatureCacheResult, LocateOptions, FeatureCacheInfo } from './data/feature-cache-node.js';
export { CachedSourceReader } from './data/feature-cache-reader-node.js';
export { cacheContentFor, describeContent, rtvcBatchWithFrames, FEATURE_CACHE_FORMAT, FEATURE_CACHE_VERSION } from './data/feature-cache-format.js';
export type { CacheContent, CacheLocations, FeatureCacheIndex, CacheEntryRecord } from './data/feature-cache-format.js';
export { preprocessSv2tts, sv2ttsFrameName, SV2TTS_MIN_FRAMES, SV2TTS_SOURCES_FILE } from './data/sv2tts-node.js';
export type { Sv2ttsOptions, Sv2ttsResult, Sv2ttsUtterance } from './data/sv2tts-node.js';
export { loadInput } from './api/load-input-node.js';
export type { LoadInputOptions } from './api/load-input-node.js';

// sherpa-onnx target and encoders on Kaldi fbank
export { exportSherpaOnnx, checkSherpaOnnxModel, validateSherpaOnnxMetadata, sherpaOnnxFbankSpec, sherpaOnnxMetadata, SHERPA_ONNX_FRAMEWORKS, SHERPA_ONNX_REQUIRED_KEYS, SHERPA_ONNX_FEATURE_DIM } from './export/onnx/sherpa-onnx.js';
export type { SherpaOnnxExportOptions, SherpaOnnxFramework } from './export/onnx/sherpa-onnx.js';
export type { ExportTarget } from './export/onnx/export-file-node.js';
export { kaldiFbankSpecOf, ENCODER_FRONTENDS, KALDI_FBANK_SETTINGS_KEY, DEFAULT_FBANK_MEL_BINS } from './models/layers/kaldi-fbank-buffers.js';
export type { EncoderFrontend, KaldiFbankFrontendSettings } from './models/layers/kaldi-fbank-buffers.js';
export type { KaldiFbankSpec } from './features/feature-spec.js';
