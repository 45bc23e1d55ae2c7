// Container IDs and names as Docker makes and checks them.
import { randomBytes } from 'node:crypto';
import { invalidArgument } from '../../util/errors.js';

/** Docker's restriction on names (daemon/names.RestrictedNamePattern). */
const NAME_PATTERN = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** A new container or exec ID: 64 hex digits, never all digits (Docker avoids those too, so prefixes don't look like numbers). */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    if (!/^\d+$/.test(id.slice(0, 12))) return id;
  }
}

/** "/name" from a user's "name" or "/name"; throws Docker's message for a bad one. */
export function canonicalName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw invalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.startsWith('/') ? name : `/${name}`;
}

// A short version of moby's namesgenerator lists: adjective_surname of notable scientists and hackers.
const LEFT = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold',
  'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'condescending', 'confident', 'cool',
  'cranky', 'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated',
  'elegant', 'eloquent', 'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty',
  'funny', 'gallant', 'gifted', 'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful',
  'hungry', 'infallible', 'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty',
  'nostalgic', 'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical',
  'recursing', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic',
  'strange', 'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant',
  'vigilant', 'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const RIGHT = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'bhabha',
  'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown', 'carson', 'cerf',
  'chandrasekhar', 'clarke', 'curie', 'darwin', 'davinci', 'dijkstra', 'dirac', 'easley', 'einstein', 'elion',
  'engelbart', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gates',
  'goldberg', 'goldstine', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hertz', 'hodgkin', 'hofstadter', 'hopper',
  'hypatia', 'jackson', 'jang', 'jemison', 'johnson', 'kalam', 'kepler', 'khorana', 'knuth', 'kowalevski',
  'lalande', 'lamarr', 'leakey', 'leavitt', 'lovelace', 'lumiere', 'mahavira', 'mayer', 'mccarthy', 'mcclintock',
  'meitner', 'mendel', 'merkle', 'mirzakhani', 'montalcini', 'morse', 'napier', 'nash', 'newton', 'nobel',
  'noether', 'payne', 'perlman', 'pike', 'poincare', 'ptolemy', 'raman', 'ramanujan', 'ride', 'ritchie',
  'roentgen', 'sammet', 'shannon', 'shirley', 'sinoussi', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing',
  'varahamihira', 'visvesvaraya', 'volhard', 'wescoff', 'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright',
  'yalow', 'yonath',
];

/** A random "adjective_surname"; `retry` > 0 appends a digit as Docker does after a collision. */
export function generateName(retry = 0): string {
  const pick = (list: string[]): string => list[randomBytes(2).readUInt16LE(0) % list.length]!;
  let name = `${pick(LEFT)}_${pick(RIGHT)}`;
  if (name === 'boring_wozniak') name = 'focused_wozniak'; // Steve Wozniak is not boring (moby's rule).
  return retry > 0 ? `${name}${randomBytes(1)[0]! % 10}` : name;
}
