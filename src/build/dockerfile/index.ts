// berth's Dockerfile frontend: parsing, variable expansion and stage planning. Pure: no I/O.
export * from './types.js';
export { parseDockerfile, parseInstructions, type ParseOptions } from './parser.js';
export { expandWord, expandWords, expandHeredoc, expandInstruction } from './expand.js';
export { planStages, PROXY_ARGS, PLATFORM_ARGS, type PlanOptions, type PlannedStage, type SourceRef, type StagePlan, type StageRef } from './stages.js';
export { parseRunMount, expandRunMount, runMounts, parseRamSize, type RunMount, type MountType, type CacheSharing } from './run-mount.js';
export { parseGoDuration, parseHealthInterval, parseHealthRetries, healthConfig } from './healthcheck.js';
export { parseExposePort, parseExposePorts } from './expose.js';
export { chompHeredoc, parseHeredocMarker, type HeredocMarker } from './heredoc.js';
export { validStageName, INSTRUCTION_KINDS } from './instructions.js';
export { shellPatternToRegex } from './shell-pattern.js';
export { errorAtLoc } from './location.js';
export { runCommand, type RunCommand } from './run-heredoc.js';
