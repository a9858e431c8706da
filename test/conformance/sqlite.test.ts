import { sqliteFixture } from './backends';
import { conformance } from './suite';

conformance(sqliteFixture);
