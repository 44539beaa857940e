// Socket.IO client for the API test: first a wrong key (must be refused), then the right one;
// prints every sandbox event it hears, one line each, until SIGTERM.
const { io } = require('socket.io-client');

const origin = process.env.API_ORIGIN;
const key = process.env.API_KEY;

function connect(token) {
  return io(origin, {
    path: '/api/socket.io/',
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    query: { source: 'sdk-typescript-legacy', sdkVersion: '0.218.0' },
  });
}

function listen() {
  const socket = connect(key);
  socket.on('connect', () => console.log('connected'));
  socket.on('connect_error', (err) => {
    console.log('connect_error ' + err.message);
    process.exit(3);
  });
  socket.on('sandbox.created', (dto) => console.log(`sandbox.created ${dto.id} ${dto.state}`));
  socket.on('sandbox.state.updated', (u) =>
    console.log(`sandbox.state.updated ${u.sandbox.id} ${u.oldState}->${u.newState}`));
}

const wrong = connect('dtn_wrong');
wrong.on('connect', () => {
  console.log('connected with a wrong key');
  process.exit(2);
});
wrong.on('connect_error', (err) => {
  console.log('rejected: ' + err.message);
  wrong.close();
  listen();
});

process.on('SIGTERM', () => process.exit(0));
setTimeout(() => process.exit(4), 120000).unref();
