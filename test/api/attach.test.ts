/** api/attach, api/logs, api/exec: the query parsing and the Content-Type choice, as moby does them. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MULTIPLEXED_STREAM, RAW_STREAM, sizeParam, streamContentType } from '../../src/api/attach.js';
import { tailParam } from '../../src/api/logs.js';
import { statusFromError } from '../../src/errors.js';

test('~> multiplexed-stream only for muxed streams from API 1.42 on', () => {
  assert.is(streamContentType(true, '1.42'), MULTIPLEXED_STREAM);
  assert.is(streamContentType(true, '1.51'), MULTIPLEXED_STREAM);
  assert.is(streamContentType(true, '1.41'), RAW_STREAM);
  assert.is(streamContentType(false, '1.51'), RAW_STREAM);
});

test('~> resize h/w: integers, else 400 with Go strconv text', () => {
  assert.is(sizeParam(new URLSearchParams('h=24&w=80'), 'h'), 24);
  assert.is(sizeParam(new URLSearchParams('h=24&w=80'), 'w'), 80);
  for (const q of ['h=', 'h=x', 'w=1']) {
    try {
      sizeParam(new URLSearchParams(q), 'h');
      assert.unreachable();
    } catch (e) {
      assert.is(statusFromError(e), 400);
      assert.match((e as Error).message, /strconv.Atoi: parsing/);
    }
  }
});

test('~> tail: integers; "all", -1 and junk mean every line (moby)', () => {
  assert.is(tailParam(new URLSearchParams('tail=5')), 5);
  assert.is(tailParam(new URLSearchParams('tail=0')), 0);
  assert.is(tailParam(new URLSearchParams('tail=all')), undefined);
  assert.is(tailParam(new URLSearchParams('tail=-1')), undefined);
  assert.is(tailParam(new URLSearchParams('')), undefined);
});

test.run();
