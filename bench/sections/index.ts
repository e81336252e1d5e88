import type { BenchSection } from '../lib.js';
import { pinSection } from './pin.js';

/** Every benchmark section, in the order printed. An area adds its section here. */
export const sections: BenchSection[] = [pinSection];
