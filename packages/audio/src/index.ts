export { type AudioAnalysis, analyse } from './analysis.ts';
export { correlation, crossfadeGains } from './crossfade.ts';
export {
  decodeToFloat32,
  decodeWithFfmpeg,
  type Mp3EncoderProcess,
  PCM_FORMAT,
  spawnMp3Encoder,
} from './ffmpeg.ts';
export { type DecodedAudio, type DecodeTimings, FlacDecodeThread, flacDecoder, isFlac } from './flac.ts';
export { type Mp3FrameHeader, Mp3FrameSplitter, parseMp3Header } from './mp3-frames.ts';
