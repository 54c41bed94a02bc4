// @sigstore/mock (sigstore-js) served over HTTP on 127.0.0.1 for sigstore-python.
//
// Prints one JSON line {"url": ..., "trustConfig": {...}} once listening, then serves
// Fulcio POST /api/v2/signingCert and Rekor v1 POST /api/v1/log/entries until killed.
// The adapter moves the bearer token into the body (`credentials.oidcIdentityToken`)
// and base64-decodes the PEM CSR, which is how @sigstore/mock's handler expects them.
'use strict';

const http = require('http');
const crypto = require('crypto');
const {
  initializeCA, initializeCTLog, initializeTLog, fulcioHandler, rekorHandler,
} = require('@sigstore/mock');

function keyPair() {
  return crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function b64(bytes) {
  return Buffer.from(bytes).toString('base64');
}

async function main() {
  const ctlog = await initializeCTLog(keyPair());
  const ca = await initializeCA(keyPair(), ctlog);
  const fulcio = fulcioHandler(ca);
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  const tlog = await initializeTLog(url, keyPair());
  const rekor = rekorHandler(tlog);

  server.on('request', async (req, res) => {
    try {
      const body = await readBody(req);
      let result;
      if (req.method === 'POST' && req.url === fulcio.path) {
        const request = JSON.parse(body);
        const auth = req.headers.authorization || '';
        const csr = Buffer.from(request.certificateSigningRequest, 'base64').toString('utf8');
        result = await fulcio.fn(JSON.stringify({
          credentials: { oidcIdentityToken: auth.replace(/^Bearer /, '') },
          certificateSigningRequest: csr,
        }));
      } else if (req.method === 'POST' && req.url === rekor.path) {
        result = await rekor.fn(body);
      } else {
        result = { statusCode: 404, response: JSON.stringify({ code: 404, message: 'not found' }) };
      }
      res.writeHead(result.statusCode, { 'Content-Type': result.contentType || 'application/json' });
      res.end(result.response);
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 500, message: String(err) }));
    }
  });

  const start = { start: new Date(Date.now() - 60 * 1000).toISOString() };
  const service = { url, majorApiVersion: 1, validFor: start, operator: 'sigstore.mock' };
  const logEntry = (publicKey, keyId) => ({
    baseUrl: url,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(publicKey), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: start },
    logId: { keyId: b64(keyId) },
  });
  const trustConfig = {
    mediaType: 'application/vnd.dev.sigstore.clienttrustconfig.v0.1+json',
    trustedRoot: {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      tlogs: [logEntry(tlog.publicKey, crypto.createHash('sha256').update(tlog.publicKey).digest())],
      certificateAuthorities: [{
        subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
        uri: url,
        certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
        validFor: start,
      }],
      ctlogs: [logEntry(Buffer.from(ctlog.publicKey), Buffer.from(ctlog.logID))],
      timestampAuthorities: [],
    },
    signingConfig: {
      mediaType: 'application/vnd.dev.sigstore.signingconfig.v0.2+json',
      caUrls: [service],
      oidcUrls: [],
      rekorTlogUrls: [service],
      tsaUrls: [],
      rekorTlogConfig: { selector: 'ANY' },
      tsaConfig: { selector: 'ANY' },
    },
  };
  process.stdout.write(JSON.stringify({ url, trustConfig }) + '\n');
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err) => {
  process.stderr.write(`sigstore-mock-server: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
