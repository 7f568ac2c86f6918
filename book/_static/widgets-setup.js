// Glue between the local ipywidgets HTML manager (_static/widgets/embed-amd.js) and this book, loaded just before it
// (_config.yml, nb_ipywidgets_js):
// 1. RequireJS resolves the manager's own fonts beside its script, in _static/widgets/, not beside the page.
// 2. The manager typesets widget labels with MathJax 2's `MathJax.Hub.Queue`; the book loads MathJax 3, so that one
//    call is mapped on MathJax 3's `typesetPromise` (calls made before MathJax has started are typeset once it has).
(function () {
  const root = new URL(document.documentElement.dataset.content_root || "./", document.baseURI);
  require.config({ paths: { "@jupyter-widgets/html-manager/dist": new URL("_static/widgets", root).href } });

  const early = [];
  const config = window.MathJax || (window.MathJax = {});
  config.Hub = { Queue: (call) => early.push(call[2]) };
  const ready = config.startup && config.startup.ready;
  config.startup = Object.assign({}, config.startup, {
    ready() {
      if (ready) { ready(); } else { MathJax.startup.defaultReady(); }
      MathJax.Hub = { Queue: (call) => MathJax.startup.promise.then(() => MathJax.typesetPromise([call[2]])) };
      MathJax.startup.promise.then(() => (early.length ? MathJax.typesetPromise(early) : null));
    },
  });
})();
