import { fileFixture } from './backends';
import { conformance } from './suite';

conformance(fileFixture);
