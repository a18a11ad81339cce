/**
 * @module engine/archive/tar
 * A small streaming tar implementation (no dependency): header codec (ustar, GNU, PAX), a pull
 * reader, a normalising re-writer, decompression by magic bytes, and a packer for local files.
 */
export * from './header.js';
export * from './reader.js';
export * from './normalise.js';
export * from './compress.js';
