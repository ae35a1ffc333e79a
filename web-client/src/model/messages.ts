// The 3D subject page's messages in the app's four languages (merged into the catalogues by
// i18n/*.ts; every language has exactly the English keys: the type checker says which are
// missing). Keys start with `model.`.

export const modelEn = {
  'model.thumb': '3D model',
  'model.opening': 'Opening the 3D model…',
  'model.loading': 'Loading the model… {percent}%',
  'model.loadingUnknown': 'Loading the model…',
  'model.failed': 'The 3D model could not be loaded. Check that its file can be reached, then reload the page.',
  'model.stage': '3D model and annotations',
  'model.canvasLabel': '3D view: drag to turn the model, scroll to zoom, right-drag to move it',
  'model.tools': '3D tools',
  'model.turn': 'Turn',
  'model.addPoint': 'Add a point',
  'model.addPointHint': 'Click on the surface to place a point. It keeps the current view, so colleagues see what you saw.',
  'model.cancel': 'Cancel',
  'model.missed': 'That click was not on the model: click on its surface to place a point.',
  'model.wholeModel': 'Whole model',
  'model.savedView': 'Saved view',
} satisfies Record<string, string>;

export const modelFr: Record<keyof typeof modelEn, string> = {
  'model.thumb': 'Modèle 3D',
  'model.opening': 'Ouverture du modèle 3D…',
  'model.loading': 'Chargement du modèle… {percent} %',
  'model.loadingUnknown': 'Chargement du modèle…',
  'model.failed': "Le modèle 3D n'a pas pu être chargé. Vérifiez que son fichier est accessible, puis rechargez la page.",
  'model.stage': 'Modèle 3D et annotations',
  'model.canvasLabel': 'Vue 3D : faites glisser pour tourner le modèle, molette pour zoomer, clic droit pour le déplacer',
  'model.tools': 'Outils 3D',
  'model.turn': 'Tourner',
  'model.addPoint': 'Ajouter un point',
  'model.addPointHint': 'Cliquez sur la surface pour placer un point. La vue actuelle est gardée : vos collègues verront ce que vous avez vu.',
  'model.cancel': 'Annuler',
  'model.missed': "Ce clic n'était pas sur le modèle : cliquez sur sa surface pour placer un point.",
  'model.wholeModel': 'Modèle entier',
  'model.savedView': 'Vue enregistrée',
};

export const modelDe: Record<keyof typeof modelEn, string> = {
  'model.thumb': '3D-Modell',
  'model.opening': '3D-Modell wird geöffnet…',
  'model.loading': 'Modell wird geladen… {percent} %',
  'model.loadingUnknown': 'Modell wird geladen…',
  'model.failed': 'Das 3D-Modell konnte nicht geladen werden. Prüfen Sie, ob seine Datei erreichbar ist, und laden Sie die Seite neu.',
  'model.stage': '3D-Modell und Annotationen',
  'model.canvasLabel': '3D-Ansicht: ziehen zum Drehen, scrollen zum Zoomen, mit rechter Maustaste verschieben',
  'model.tools': '3D-Werkzeuge',
  'model.turn': 'Drehen',
  'model.addPoint': 'Punkt setzen',
  'model.addPointHint': 'Klicken Sie auf die Oberfläche, um einen Punkt zu setzen. Die aktuelle Ansicht wird gespeichert, damit Kolleginnen und Kollegen sehen, was Sie gesehen haben.',
  'model.cancel': 'Abbrechen',
  'model.missed': 'Dieser Klick lag nicht auf dem Modell: Klicken Sie auf seine Oberfläche, um einen Punkt zu setzen.',
  'model.wholeModel': 'Ganzes Modell',
  'model.savedView': 'Gespeicherte Ansicht',
};

export const modelIt: Record<keyof typeof modelEn, string> = {
  'model.thumb': 'Modello 3D',
  'model.opening': 'Apertura del modello 3D…',
  'model.loading': 'Caricamento del modello… {percent}%',
  'model.loadingUnknown': 'Caricamento del modello…',
  'model.failed': 'Non è stato possibile caricare il modello 3D. Verificate che il file sia raggiungibile, poi ricaricate la pagina.',
  'model.stage': 'Modello 3D e annotazioni',
  'model.canvasLabel': 'Vista 3D: trascinate per ruotare il modello, scorrete per lo zoom, tasto destro per spostarlo',
  'model.tools': 'Strumenti 3D',
  'model.turn': 'Ruota',
  'model.addPoint': 'Aggiungi un punto',
  'model.addPointHint': 'Fate clic sulla superficie per collocare un punto. La vista attuale viene salvata, così i colleghi vedranno ciò che avete visto.',
  'model.cancel': 'Annulla',
  'model.missed': 'Quel clic non era sul modello: fate clic sulla sua superficie per collocare un punto.',
  'model.wholeModel': 'Modello intero',
  'model.savedView': 'Vista salvata',
};
