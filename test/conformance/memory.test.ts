import { memoryFixture } from './backends';
import { conformance } from './suite';

conformance(memoryFixture);
