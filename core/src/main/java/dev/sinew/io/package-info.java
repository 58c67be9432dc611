/**
 * Reading and writing tensors in the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, the weights format of Hugging Face and {@code safetensors.torch.save_file}.
 *
 * <ul>
 *   <li>{@link dev.sinew.io.Safetensors#open(java.nio.file.Path)} validates the header and
 *       memory-maps the file; a {@link dev.sinew.io.SafetensorsFile} then copies only the tensors
 *       asked for into a {@link dev.sinew.Sinew} backend;
 *       {@link dev.sinew.io.Safetensors#open(java.lang.foreign.MemorySegment)} does the same for a file
 *       image already in memory.</li>
 *   <li>{@link dev.sinew.io.Safetensors#write(java.nio.file.Path, java.util.Map, java.util.Map)} streams
 *       tensors to a temporary file in the target folder, fsyncs it and renames it over the target, so
 *       a crash never leaves a half-written file under the target name.</li>
 *   <li>Every malformed file is a {@link dev.sinew.io.SafetensorsFormatException} naming the problem
 *       and the tensor: the parser never reads past the end of the file and never sizes an
 *       allocation from an unchecked number in it.</li>
 *   <li>Training checkpoints: {@link dev.sinew.io.CheckpointWriter} saves a
 *       {@link dev.sinew.io.TrainingState} (model, optimiser state, schedule epoch, data loader
 *       position, generator states) into a folder crash-safely, keeping the previous checkpoint valid
 *       until the new one is complete; {@link dev.sinew.io.Checkpoint} reads one back, checking its
 *       format version and checksums, and restores it, so a resumed run continues exactly. Problems
 *       are one-line {@link dev.sinew.io.CheckpointFormatException}s.</li>
 * </ul>
 *
 * <p>Names are PyTorch's state-dict names ({@link dev.sinew.nn.Module#stateDict()}), so a
 * {@code model.state_dict()} saved by PyTorch loads into the equivalent Sinew model with
 * {@link dev.sinew.io.Safetensors#loadInto(dev.sinew.nn.Module, java.nio.file.Path, boolean)}, and
 * the other way round.
 */
package dev.sinew.io;
