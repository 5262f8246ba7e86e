/** A trained network with the scalers between physical units and its input / output space, and the metadata a model file keeps. */
import type { SequenceModel } from './model.ts';
import type { MinMaxScaler } from './scaler.ts';

/** A model together with the scalers that map physical units to its scaled space. */
export interface ScaledModel {
  model: SequenceModel;
  /** Scaler of the plain input features (null: inputs are already in model space). */
  inputScaler: MinMaxScaler | null;
  /** Scaler of the outputs (null: outputs are in model space). */
  outputScaler: MinMaxScaler | null;
}

/** Everything a model file carries besides the weights. */
export interface ModelMetadata {
  /** The system / data set it was trained on (e.g. 'cstr', 'energy'), if any. */
  system?: string;
  /** Data options needed to rebuild the same split (e.g. the data path, window, split seed). */
  data?: Record<string, unknown>;
  /** Training configuration (epochs, batch, learning rate, noise, spectral mode, ...). */
  training?: Record<string, unknown>;
  seed?: number;
  metrics?: Record<string, number | null>;
  /** Free-form provenance (e.g. imported from a Keras file). */
  source?: Record<string, unknown>;
}
