// Hush's voice capture: an AudioWorklet processor (loaded by app/src/voice.rs with
// audioWorklet.addModule when a recording starts). It hands the microphone's first channel, as it
// comes, to the page in batches of 4,096 samples (about 85 ms at 48 kHz), each Float32Array's
// buffer transferred; the page passes them on to the voice worker, which encodes them to MP3.
// It shows nothing and keeps nothing.
class HushVoiceCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.batch = new Float32Array(4096);
    this.filled = 0;
    this.port.onmessage = (event) => {
      // "flush": the recording stops; what is left goes now, then "flushed".
      if (event.data !== "flush") return;
      if (this.filled > 0) this.port.postMessage(this.batch.slice(0, this.filled));
      this.filled = 0;
      this.port.postMessage("flushed");
    };
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    let from = 0;
    while (from < channel.length) {
      const n = Math.min(channel.length - from, this.batch.length - this.filled);
      this.batch.set(channel.subarray(from, from + n), this.filled);
      this.filled += n;
      from += n;
      if (this.filled === this.batch.length) {
        const full = this.batch;
        this.port.postMessage(full, [full.buffer]);
        this.batch = new Float32Array(4096);
        this.filled = 0;
      }
    }
    return true;
  }
}

registerProcessor("hush-voice-capture", HushVoiceCapture);
