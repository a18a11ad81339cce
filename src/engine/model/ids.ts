/**
 * @module engine/model/ids
 * Docker identities: 64-hex container IDs (moby pkg/stringid), container names (moby
 * daemon/names.go: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, stored with a leading `/`), generated names in
 * the `adjective_scientist` style of moby's namesgenerator, and the DNS-1123 names of the
 * Kubernetes objects that carry a container.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { invalid } from '../../errors.js';

/** A new container ID: 32 random bytes as 64 lowercase hex (moby stringid.GenerateRandomID). */
export function newId(): string {
  for (;;) {
    const id = randomBytes(32).toString('hex');
    // moby rejects IDs whose 12-char short form is all digits: it breaks as a hostname (#3869).
    if (!/^\d{12}/.test(id)) return id;
  }
}

export const ID_RE = /^[0-9a-f]{64}$/;
export const shortId = (id: string) => id.slice(0, 12);

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Normalise a client-given container name: strip one leading `/`, validate as moby does. */
export function normaliseName(name: string): string {
  const n = name.startsWith('/') ? name.slice(1) : name;
  if (!NAME_RE.test(n)) throw invalid(`Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return n;
}

// A small catalogue in the spirit of moby's pkg/namesgenerator (adjectives + notable scientists).
const LEFT = [
  'admiring',
  'adoring',
  'affectionate',
  'agitated',
  'amazing',
  'angry',
  'awesome',
  'beautiful',
  'blissful',
  'bold',
  'brave',
  'busy',
  'charming',
  'clever',
  'compassionate',
  'competent',
  'confident',
  'cool',
  'cranky',
  'crazy',
  'dazzling',
  'determined',
  'distracted',
  'dreamy',
  'eager',
  'ecstatic',
  'elastic',
  'elated',
  'elegant',
  'eloquent',
  'epic',
  'exciting',
  'fervent',
  'festive',
  'flamboyant',
  'focused',
  'friendly',
  'frosty',
  'funny',
  'gallant',
  'gifted',
  'goofy',
  'gracious',
  'great',
  'happy',
  'hardcore',
  'heuristic',
  'hopeful',
  'hungry',
  'infallible',
  'inspiring',
  'intelligent',
  'interesting',
  'jolly',
  'jovial',
  'keen',
  'kind',
  'laughing',
  'loving',
  'lucid',
  'magical',
  'modest',
  'musing',
  'mystifying',
  'naughty',
  'nervous',
  'nice',
  'nifty',
  'nostalgic',
  'objective',
  'optimistic',
  'peaceful',
  'pedantic',
  'pensive',
  'practical',
  'priceless',
  'quirky',
  'quizzical',
  'recursing',
  'relaxed',
  'reverent',
  'romantic',
  'sad',
  'serene',
  'sharp',
  'silly',
  'sleepy',
  'stoic',
  'strange',
  'stupefied',
  'suspicious',
  'sweet',
  'tender',
  'thirsty',
  'trusting',
  'upbeat',
  'vibrant',
  'vigilant',
  'vigorous',
  'wizardly',
  'wonderful',
  'xenodochial',
  'youthful',
  'zealous',
  'zen',
];
const RIGHT = [
  'agnesi',
  'albattani',
  'allen',
  'almeida',
  'archimedes',
  'ardinghelli',
  'babbage',
  'banach',
  'bardeen',
  'bartik',
  'bell',
  'benz',
  'bhabha',
  'blackburn',
  'bohr',
  'booth',
  'borg',
  'bose',
  'brahmagupta',
  'brattain',
  'brown',
  'burnell',
  'cannon',
  'carson',
  'cerf',
  'chandrasekhar',
  'chaplygin',
  'cohen',
  'curie',
  'darwin',
  'davinci',
  'diffie',
  'dijkstra',
  'dirac',
  'easley',
  'einstein',
  'elion',
  'engelbart',
  'euclid',
  'euler',
  'faraday',
  'fermat',
  'fermi',
  'feynman',
  'franklin',
  'galileo',
  'gauss',
  'goldberg',
  'goodall',
  'hamilton',
  'hawking',
  'heisenberg',
  'hellman',
  'hertz',
  'hodgkin',
  'hopper',
  'hypatia',
  'jackson',
  'jang',
  'jennings',
  'johnson',
  'kalam',
  'keller',
  'kepler',
  'khorana',
  'kilby',
  'knuth',
  'lamarr',
  'lamport',
  'leakey',
  'lehmann',
  'liskov',
  'lovelace',
  'lumiere',
  'mahavira',
  'margulis',
  'maxwell',
  'mayer',
  'mccarthy',
  'mcclintock',
  'meitner',
  'mendel',
  'merkle',
  'mirzakhani',
  'montalcini',
  'moore',
  'morse',
  'napier',
  'newton',
  'nightingale',
  'nobel',
  'noether',
  'northcutt',
  'noyce',
  'pascal',
  'pasteur',
  'payne',
  'perlman',
  'pike',
  'poincare',
  'ptolemy',
  'raman',
  'ramanujan',
  'ride',
  'ritchie',
  'rosalind',
  'sammet',
  'shannon',
  'shaw',
  'shockley',
  'sinoussi',
  'snyder',
  'solomon',
  'spence',
  'stonebraker',
  'swanson',
  'swartz',
  'tesla',
  'thompson',
  'torvalds',
  'turing',
  'varahamihira',
  'visvesvaraya',
  'volhard',
  'wescoff',
  'wiles',
  'williams',
  'wilson',
  'wing',
  'wozniak',
  'wright',
  'wu',
  'yalow',
  'yonath',
  'zhukovsky',
];

/** A generated name; `retry > 0` appends a digit, as moby's GetRandomName does after a clash. */
export function randomName(retry = 0): string {
  for (;;) {
    const name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
    if (name === 'boring_wozniak') continue; // "Steve Wozniak is not boring" (moby)
    return retry > 0 ? `${name}${randomInt(10)}` : name;
  }
}

/**
 * The DNS-1123 label of the Pod that runs `run` (1, 2, ...) of a container: the Docker name made
 * DNS-safe, plus the short ID (unique), plus the run number from the second run on. At most 63
 * characters, so the name is also a valid hostname. A name with nothing DNS-safe in it gives
 * `kapi-<id12>`.
 */
export function podName(dockerName: string, id: string, run: number): string {
  let base = dockerName
    .toLowerCase()
    .replace(/[_.]/g, '-')
    .replace(/[^a-z0-9-]/g, '')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!base) base = 'kapi';
  const suffix = `-${shortId(id)}${run > 1 ? `-${run}` : ''}`;
  base = base.slice(0, 63 - suffix.length).replace(/-+$/, '') || 'kapi';
  return base + suffix;
}

/** The name of a container's durable record (a ConfigMap): stable for the container's life. */
export function recordName(id: string): string {
  return `kapi-${shortId(id)}`;
}

/** A label value (<= 63 chars, alphanumeric at both ends, [-_.a-zA-Z0-9] inside) or undefined. */
export function asLabelValue(v: string): string | undefined {
  return v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v) ? v : undefined;
}

/** A label key: optional DNS-subdomain prefix + '/', then a name as above (1..63 chars). */
export function isLabelKey(k: string): boolean {
  const slash = k.lastIndexOf('/');
  const prefix = slash >= 0 ? k.slice(0, slash) : '';
  const name = slash >= 0 ? k.slice(slash + 1) : k;
  if (
    slash >= 0 &&
    (prefix.length === 0 ||
      prefix.length > 253 ||
      !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(prefix))
  )
    return false;
  return name.length > 0 && name.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(name);
}

/** A Kubernetes label value derived from an arbitrary string (for the instance label). */
export function sanitiseLabelValue(v: string): string {
  const s = v
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return s || 'default';
}
